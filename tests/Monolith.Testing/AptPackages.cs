namespace Monolith.Testing;

/// <summary>
/// Debian packages a test (or the bench) needs (Chromium for the browser tests, tinyproxy for the outbound proxy tests), installed
/// with apt-get the first time a test asks, as CI's fresh machine has none. One install at a time: apt-get and dpkg
/// hold a lock, so two tests installing at once would fail.
/// </summary>
public static class AptPackages
{
    private static readonly SemaphoreSlim Gate = new(1, 1);

    /// <summary>Installs <paramref name="package"/> unless <paramref name="executablePath"/> is already there.</summary>
    public static async Task EnsureInstalledAsync(string package, string executablePath)
    {
        if (File.Exists(executablePath)) return;
        await Gate.WaitAsync();
        try
        {
            if (File.Exists(executablePath)) return;
            await InstallCommand.RunAsync("apt-get", "update");
            await InstallCommand.RunAsync("apt-get", $"install -y --no-install-recommends {package}");
            if (!File.Exists(executablePath)) throw new InvalidOperationException($"apt-get install {package} left no {executablePath}.");
        }
        finally
        {
            Gate.Release();
        }
    }
}
