using Monolith.Testing;
using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Features.Imports;

/// <summary>
/// Real published CSV/TSV files: the npm package <c>vega-datasets</c> 3.2.1 (the data of the Vega examples), installed
/// with <c>npm ci</c> from <c>tests/Monolith.Tests/Features/Imports/vega-datasets</c> (its lock file) into
/// <c>.local/vega-datasets</c> the first time a test needs it, as CI's fresh machine has none; npm itself with apt-get
/// when missing.
/// </summary>
public static class VegaDatasets
{
    private static readonly SemaphoreSlim InstallGate = new(1, 1);
    private static readonly string PackageFolder = Path.Combine(Repository.Root(), "tests", "Monolith.Tests", "Features", "Imports", "vega-datasets");
    private static readonly string InstallFolder = Path.Combine(Repository.Root(), ".local", "vega-datasets");
    private static readonly string DataFolder = Path.Combine(InstallFolder, "node_modules", "vega-datasets", "data");

    /// <summary>The path of one of the package's data files (<c>airports.csv</c>), installing the package first if needed.</summary>
    public static async Task<string> FileAsync(string name)
    {
        await EnsureInstalledAsync();
        var path = Path.Combine(DataFolder, name);
        if (!File.Exists(path)) throw new FileNotFoundException($"vega-datasets has no {name}.", path);
        return path;
    }

    private static async Task EnsureInstalledAsync()
    {
        await InstallGate.WaitAsync();
        try
        {
            var lockFile = Path.Combine(PackageFolder, "package-lock.json");
            var installedLock = Path.Combine(InstallFolder, "package-lock.json");
            if (Directory.Exists(DataFolder) && File.Exists(installedLock) && File.ReadAllText(installedLock) == File.ReadAllText(lockFile)) return;
            Directory.CreateDirectory(InstallFolder);
            if (!OnPath("npm")) await AptPackages.EnsureInstalledAsync("nodejs npm", "/usr/bin/npm");
            foreach (var file in new[] { "package.json", "package-lock.json", ".npmrc" })
            {
                File.Copy(Path.Combine(PackageFolder, file), Path.Combine(InstallFolder, file), overwrite: true);
            }
            await InstallCommand.RunAsync("npm", $"ci --prefix {InstallFolder} --no-audit --no-fund --loglevel=error");
            if (!Directory.Exists(DataFolder)) throw new InvalidOperationException($"npm ci left no {DataFolder}.");
        }
        finally
        {
            InstallGate.Release();
        }
    }

    private static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(folder => File.Exists(Path.Combine(folder, program)));
}
