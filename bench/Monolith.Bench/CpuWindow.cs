namespace Monolith.Bench;

/// <summary>
/// CPU time spent between <see cref="StartAsync"/> and <see cref="Stop"/> by one process (a worker) and by the whole
/// PostgreSQL server the bench uses (when its postmaster can be found: the server runs on this machine).
/// </summary>
public sealed class CpuWindow
{
    private readonly int _pid;
    private readonly int? _postmaster;
    private readonly double? _process0;
    private readonly double? _server0;

    private CpuWindow(int pid, int? postmaster)
    {
        _pid = pid;
        _postmaster = postmaster;
        _process0 = ProcFs.CpuMs(pid);
        _server0 = postmaster is { } pm ? ProcFs.ServerCpuMs(pm) : null;
    }

    public static async Task<CpuWindow> StartAsync(Db db, int pid) => new(pid, await db.PostmasterPidAsync());

    /// <summary>Milliseconds of CPU since the start: the process's and the server's (null when not measurable).</summary>
    public (double? ProcessMs, double? ServerMs) Stop()
    {
        var process = ProcFs.CpuMs(_pid) - _process0;
        var server = _postmaster is { } pm ? ProcFs.ServerCpuMs(pm) - _server0 : null;
        return (process, server);
    }
}
