using System.Globalization;

namespace Monolith.Bench;

/// <summary>What /proc says about a process: memory (<c>status</c>) and CPU time (<c>stat</c>).</summary>
public static class ProcFs
{
    private static readonly double MsPerTick = 1000.0 / 100; // USER_HZ is 100 on Linux

    /// <summary>VmRSS (or another /proc/&lt;pid&gt;/status field) of a node or peer process in kB; null when it is gone.</summary>
    public static long? ReadStatusKb(this ChildProcess process, string field = "VmRSS") => StatusKb(process.Pid, field);

    /// <summary>VmRSS (or another /proc/&lt;pid&gt;/status field) in kB; null when the process is gone.</summary>
    public static long? StatusKb(int pid, string field = "VmRSS")
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (!line.StartsWith(field + ":", StringComparison.Ordinal)) continue;
                var parts = line[(field.Length + 1)..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return long.Parse(parts[0], CultureInfo.InvariantCulture);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            // gone
        }
        return null;
    }

    /// <summary>User + system CPU time of a process in ms (with <paramref name="children"/>: of its reaped children too).</summary>
    public static double? CpuMs(int pid, bool children = false)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // The fields after the command name (which may hold spaces) start after its closing parenthesis: state is field 3.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            long Field(int number) => long.Parse(fields[number - 3], CultureInfo.InvariantCulture);
            var ticks = Field(14) + Field(15) + (children ? Field(16) + Field(17) : 0);
            return ticks * MsPerTick;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>
    /// CPU time in ms of a whole PostgreSQL server: the postmaster (with the backends it has reaped) plus every live child
    /// (backends, checkpointer, WAL writer, autovacuum). A backend that exits moves its time from the second sum to the first.
    /// </summary>
    public static double? ServerCpuMs(int postmasterPid)
    {
        var total = CpuMs(postmasterPid, children: true);
        if (total is null) return null;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid) || pid == postmasterPid) continue;
            try
            {
                var ppid = File.ReadLines(Path.Combine(dir, "status")).FirstOrDefault(l => l.StartsWith("PPid:", StringComparison.Ordinal));
                if (ppid is null || int.Parse(ppid[5..].Trim(), CultureInfo.InvariantCulture) != postmasterPid) continue;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                continue; // gone
            }
            total += CpuMs(pid) ?? 0;
        }
        return total;
    }
}
