using System.Collections.Concurrent;
using Monolith.Testing;

namespace Monolith.Bench;

/// <summary>
/// How the bench starts the service's nodes: with <see cref="ServiceProcess"/>, the start-up helper the tests use
/// (tests/Monolith.Testing), with the bench's keys, its run's log folder, the last 40 lines of each node in memory,
/// 90 s to get ready, and one more try for a node that shuts down by itself right after it started.
/// </summary>
public static class Nodes
{
    public const string AdminKey = "bench-admin-key-0123456789abcdef";

    /// <summary>Nodes that shut down gracefully before they were ready and were started again.</summary>
    public static readonly ConcurrentBag<string> RestartedEarly = [];

    /// <summary>Starts a node and waits until it is ready.</summary>
    public static Task<ServiceProcess> StartAsync(string apiDll, string logDir, string databaseUrl, string serviceType,
        string instanceId, IDictionary<string, string>? extraEnv = null) =>
        ServiceProcess.StartAsync(
            new ServiceProcessOptions(apiDll, AdminKey, "bench", "YmVuY2gta2V5LWJlbmNoLWtleS1iZW5jaC1rZXktYmU=")
            {
                LogDirectory = logDir,
                KeepLines = 40,
                ReadyTimeout = TimeSpan.FromSeconds(90),
                // Seen once while other test runs shared the machine: the node shut down gracefully (exit code 0, as on
                // SIGTERM) right after it started. Start it again, and say so.
                OnEarlyShutdown = instance =>
                {
                    Console.Error.WriteLine($"[bench] {instance} shut down by itself before it was ready; starting it again");
                    RestartedEarly.Add(instance);
                },
            },
            databaseUrl, serviceType, instanceId, extraEnv);

    /// <summary>
    /// Other processes of this project running now (nodes or test hosts not started by this bench): a sign that
    /// the machine was shared while measuring.
    /// </summary>
    public static int ForeignProcesses()
    {
        var count = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid) || pid == Environment.ProcessId || ChildProcess.StartedHere(pid)) continue;
            try
            {
                var cmdline = File.ReadAllText(Path.Combine(dir, "cmdline"));
                if (cmdline.Contains("Monolith.Api.dll", StringComparison.Ordinal) || cmdline.Contains("testhost", StringComparison.Ordinal)) count++;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // gone
            }
        }
        return count;
    }
}
