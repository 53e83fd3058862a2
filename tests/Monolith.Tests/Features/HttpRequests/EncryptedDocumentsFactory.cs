using System.Diagnostics;
using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Features.HttpRequests;

/// <summary>
/// The vendor-call service (<see cref="HttpRequestsFactory"/>: every log line kept) with its file store in a fresh
/// temporary folder, and a way to read its whole database as <c>pg_dump</c> writes it.
/// </summary>
public sealed class EncryptedDocumentsFactory : HttpRequestsFactory
{
    public string StorageRoot { get; } = Path.Combine(Path.GetTempPath(), "monolith-uploads-" + Guid.NewGuid().ToString("N"));

    protected override Dictionary<string, string?> Settings => new(base.Settings)
    {
        ["Storage:Root"] = StorageRoot,
        ["Logging:LogLevel:Default"] = "Debug",
    };

    /// <summary>Every row of the database as plain SQL, from <c>pg_dump --data-only</c> (PostgreSQL's own, found as scripts/postgres.sh finds it).</summary>
    public Task<string> DumpDatabaseAsync() => DumpAsync(DatabaseUrl);

    public static async Task<string> DumpAsync(string databaseUrl)
    {
        var start = new ProcessStartInfo("bash", ["-c", "source scripts/postgres.sh && \"$(monolith_pg_bin)/pg_dump\" --data-only --no-owner --dbname \"$1\"", "pg_dump", databaseUrl])
        {
            WorkingDirectory = Repository.Root(),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"pg_dump exited with {process.ExitCode}: {await error}");
        return await output;
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing && Directory.Exists(StorageRoot)) Directory.Delete(StorageRoot, recursive: true);
    }
}
