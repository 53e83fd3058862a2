namespace Monolith.Worker.Storage;

/// <summary>
/// Settings of the S3-compatible file store (<c>Storage__S3__*</c>, used when <c>Storage__Kind=S3</c>). The access key
/// pair is a secret: give it through the environment or a secret store, never in appsettings.json; it is never logged.
/// </summary>
public sealed class S3StorageOptions
{
    /// <summary>S3's own smallest part size for every part but the last.</summary>
    public const int MinPartSizeBytes = 5 << 20;
    public const int MaxPartSizeBytes = 512 << 20;

    /// <summary>
    /// The endpoint of an S3-compatible server (<c>http://minio:9000</c>); none for Amazon S3 itself, which is then
    /// reached in <see cref="Region"/>.
    /// </summary>
    public string? ServiceUrl { get; set; }

    /// <summary>The region requests are signed for (default <c>us-east-1</c>, what most S3-compatible servers expect).</summary>
    public string Region { get; set; } = "us-east-1";

    /// <summary>The bucket every file is kept in (required); it must exist, the service does not create it.</summary>
    public string Bucket { get; set; } = "";

    /// <summary>
    /// The access key id (a secret, with <see cref="SecretAccessKey"/>). Leave both unset to use the SDK's own chain
    /// (the AWS_* environment variables, a web identity token on Kubernetes, the instance's role).
    /// </summary>
    public string? AccessKeyId { get; set; }

    /// <summary>The secret access key (a secret); set with <see cref="AccessKeyId"/> or not at all.</summary>
    public string? SecretAccessKey { get; set; }

    /// <summary>
    /// Path-style addresses (<c>http://host/bucket/key</c>) instead of virtual-hosted ones (<c>http://bucket.host/key</c>)
    /// (default false). Most self-hosted servers (MinIO, s3rver, Ceph, Garage) need true.
    /// </summary>
    public bool ForcePathStyle { get; set; }

    /// <summary>
    /// Size of one part of a multipart upload, in bytes (default 8 MiB, 5 MiB to 512 MiB). A write holds two such
    /// buffers (one being sent while the next is read), so this bounds its memory; a file is at most 10,000 parts.
    /// A file smaller than one part is sent in one PUT.
    /// </summary>
    public int PartSizeBytes { get; set; } = 8 << 20;

    /// <summary>What is wrong with these settings, or null; names settings, never their secret values.</summary>
    internal string? Problem()
    {
        if (string.IsNullOrWhiteSpace(Bucket)) return "Bucket is required (Storage__S3__Bucket).";
        if (ServiceUrl is not null
            && !(Uri.TryCreate(ServiceUrl, UriKind.Absolute, out var url) && url.Scheme is "http" or "https" && url.UserInfo.Length == 0))
        {
            return "ServiceUrl must be an absolute http or https address without user information.";
        }
        if (string.IsNullOrWhiteSpace(Region)) return "Region is required.";
        if (string.IsNullOrEmpty(AccessKeyId) != string.IsNullOrEmpty(SecretAccessKey))
        {
            return "AccessKeyId and SecretAccessKey are set together, or neither (the SDK's credential chain).";
        }
        return PartSizeBytes is < MinPartSizeBytes or > MaxPartSizeBytes
            ? $"PartSizeBytes must be between {MinPartSizeBytes} and {MaxPartSizeBytes}."
            : null;
    }
}
