using System.Diagnostics;

namespace Monolith.Tests.Infrastructure;

/// <summary>
/// A PostgreSQL server of the test's own (scripts/postgres.sh, under .local/pg-&lt;name&gt;), for fault tests that
/// restart the database and so must not share the suite's server.
/// </summary>
public sealed class LocalPostgres : IAsyncDisposable
{
    private LocalPostgres(string name, string url) => (Name, ServerUrl) = (name, url);

    public string Name { get; }

    /// <summary>postgres:// URL of the server's <c>postgres</c> database.</summary>
    public string ServerUrl { get; }

    public static async Task<LocalPostgres> StartAsync(string name, int port)
    {
        await RunAsync($"monolith_start_postgres {name} {port}");
        return new LocalPostgres(name, $"postgres://postgres@127.0.0.1:{port}/postgres");
    }

    /// <summary><c>pg_ctl restart -m fast</c>: every connection is cut and the server comes back.</summary>
    public Task RestartAsync() => RunAsync($"monolith_restart_postgres {Name}");

    public async ValueTask DisposeAsync() => await RunAsync($"monolith_stop_postgres {Name}");

    private static async Task RunAsync(string command)
    {
        var repo = Repository.Root();
        var info = new ProcessStartInfo("bash", ["-c", $"source scripts/postgres.sh && {command}"])
        {
            WorkingDirectory = repo,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"'{command}' failed ({process.ExitCode}): {await output}{await error}");
        }
    }
}
