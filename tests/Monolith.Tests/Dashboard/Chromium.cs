using Monolith.Tests.Infrastructure;

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
            await InstallCommand.RunAsync("apt-get", "update");
            await InstallCommand.RunAsync("apt-get", "install -y --no-install-recommends chromium");
            if (!File.Exists(ExecutablePath)) throw new InvalidOperationException($"apt-get install chromium left no {ExecutablePath}.");
        }
        finally
        {
            Gate.Release();
        }
    }
}
