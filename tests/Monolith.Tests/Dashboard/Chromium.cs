using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Dashboard;

/// <summary>
/// Debian's Chromium, which the browser tests drive through Playwright (the Playwright driver comes with its NuGet
/// package; its own browser download is never used: this machine and CI are offline). Installed with apt-get the
/// first time a test needs it (<see cref="AptPackages"/>), as CI's fresh machine has none.
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

    public static Task EnsureInstalledAsync() => AptPackages.EnsureInstalledAsync("chromium", ExecutablePath);
}
