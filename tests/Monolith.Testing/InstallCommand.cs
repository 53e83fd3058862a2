using System.Diagnostics;

namespace Monolith.Testing;

/// <summary>
/// Runs an install step a test (or the bench) needs on a fresh machine (<c>apt-get</c>, <c>npm ci</c>): waits for it, and throws
/// with its output when it fails. Non-interactive, as CI has no standard input.
/// </summary>
public static class InstallCommand
{
    public static async Task RunAsync(string file, string arguments)
    {
        var start = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["DEBIAN_FRONTEND"] = "noninteractive";
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {file}.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {arguments} exited {process.ExitCode}:\n{await output}\n{await error}");
        }
    }
}
