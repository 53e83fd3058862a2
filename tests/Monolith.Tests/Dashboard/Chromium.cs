using System.Diagnostics;

namespace Monolith.Tests.Dashboard;

/// <summary>
/// Debian's Chromium, which the browser tests drive through Playwright (the Playwright driver comes with its NuGet
/// package; its own browser download is never used: this machine and CI are offline). Installed with apt-get the
/// first time a test needs it, as CI's fresh machine has none.
/// </summary>
public static class Chromium
{
    public const string ExecutablePath = "/usr/bin/chromium";

    /// <summary>What Chromium needs here: no sandbox (root), and no background traffic (the network is closed).</summary>
    public static readonly string[] Args =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync",
    ];

    private static readonly SemaphoreSlim Gate = new(1, 1);

    public static async Task EnsureInstalledAsync()
    {
        if (File.Exists(ExecutablePath)) return;
        await Gate.WaitAsync();
        try
        {
            if (File.Exists(ExecutablePath)) return;
            await RunAsync("apt-get", "update");
            await RunAsync("apt-get", "install -y --no-install-recommends chromium");
            if (!File.Exists(ExecutablePath)) throw new InvalidOperationException($"apt-get install chromium left no {ExecutablePath}.");
        }
        finally
        {
            Gate.Release();
        }
    }

    private static async Task RunAsync(string file, string arguments)
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
