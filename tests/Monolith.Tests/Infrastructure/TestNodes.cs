namespace Monolith.Tests.Infrastructure;

/// <summary>
/// How the tests start the service's nodes as child processes (<see cref="ServiceProcess"/>, shared with the bench):
/// the build the tests were built with, the tests' admin and encryption keys (those of <see cref="MonolithFactory"/>),
/// every line kept, and logs under <c>process-logs/&lt;run&gt;/</c> of the test output directory.
/// </summary>
public static class TestNodes
{
    private static readonly Lazy<ServiceProcessOptions> LazyOptions = new(() => new ServiceProcessOptions(
        ApiDllPath(), MonolithFactory.AdminKey, MonolithFactory.SecretKeyId, MonolithFactory.SecretKey)
    {
        LogDirectory = LogDirectory(),
    });

    public static ServiceProcessOptions Options => LazyOptions.Value;

    /// <summary>
    /// Starts a node and waits until <c>GET /health/ready</c> answers 200 (at most 60 s; fails with the node's output).
    /// Its clients send the tests' admin key unless told another.
    /// </summary>
    public static Task<ServiceProcess> StartAsync(
        string databaseUrl, string serviceType, string instanceId, IDictionary<string, string>? extraEnv = null) =>
        ServiceProcess.StartAsync(Options, databaseUrl, serviceType, instanceId, extraEnv);

    /// <summary>
    /// <c>src/Api/bin/&lt;Configuration&gt;/&lt;tfm&gt;/Monolith.Api.dll</c> of this repository, the configuration and
    /// framework taken from the test assembly's own output path; the copy next to the tests when that is missing.
    /// </summary>
    public static string ApiDllPath()
    {
        var baseDirectory = Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory);
        var segments = baseDirectory.Split(Path.DirectorySeparatorChar);
        var bin = Array.LastIndexOf(segments, "bin");
        var configuration = bin >= 0 && bin + 1 < segments.Length ? segments[bin + 1] : "Release";
        var framework = bin >= 0 && bin + 2 < segments.Length ? segments[bin + 2] : "net10.0";

        var built = Path.Combine(Repository.Root(), "src", "Api", "bin", configuration, framework, "Monolith.Api.dll");
        if (File.Exists(built)) return built;

        var local = Path.Combine(baseDirectory, "Monolith.Api.dll");
        if (File.Exists(local)) return local;
        throw new FileNotFoundException(
            $"Monolith.Api.dll not found under src/Api/bin/{configuration}/{framework} nor in {baseDirectory}: build the solution first.");
    }

    /// <summary>
    /// <c>process-logs/&lt;run&gt;</c> under the test output directory, one folder per test run; folders of runs older
    /// than a day are removed, so the directory does not grow forever.
    /// </summary>
    private static string LogDirectory()
    {
        var root = Path.Combine(AppContext.BaseDirectory, "process-logs");
        try
        {
            Directory.CreateDirectory(root);
            foreach (var old in new DirectoryInfo(root).EnumerateFileSystemInfos().Where(i => i.LastWriteTimeUtc < DateTime.UtcNow.AddDays(-1)))
            {
                if (old is DirectoryInfo directory) directory.Delete(recursive: true);
                else old.Delete();
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // in use or gone: leave it
        }
        return Path.Combine(root, $"{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Environment.ProcessId}");
    }
}
