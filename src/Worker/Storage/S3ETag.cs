using System.Security.Cryptography;

namespace Monolith.Worker.Storage;

/// <summary>
/// The ETags an S3 store gives the objects this service writes: the hex MD5 of the bytes for one PUT (and, in
/// s3rver, for a completed multipart upload), and <c>md5(part MD5s)-N</c> for a multipart upload of N parts on S3,
/// MinIO and most others. Comparing them with MD5s computed here is how the store's checksums are checked.
/// </summary>
public static class S3ETag
{
    /// <summary>The user metadata (<c>x-amz-meta-part-size</c>) recording a multipart object's part size, so a reader can recompute its ETag.</summary>
    public const string PartSizeMetadata = "part-size";

    /// <summary>An ETag without its quotes, in lower case.</summary>
    public static string Normalize(string? etag) => (etag ?? "").Trim().Trim('"').ToLowerInvariant();

    /// <summary>The ETag of one PUT of bytes with this MD5.</summary>
    public static string OfSinglePart(ReadOnlySpan<byte> md5) => Convert.ToHexStringLower(md5);

    /// <summary>The ETag of a multipart upload whose parts had these MD5s, in order.</summary>
    public static string OfMultipart(IReadOnlyList<byte[]> partMd5s)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        foreach (var md5 in partMd5s) hash.AppendData(md5);
        return $"{Convert.ToHexStringLower(hash.GetHashAndReset())}-{partMd5s.Count}";
    }

    /// <summary>The number of parts an ETag of the multipart form names, or null for a plain MD5 ETag.</summary>
    public static int? PartCount(string normalized)
    {
        var dash = normalized.LastIndexOf('-');
        return dash > 0 && int.TryParse(normalized.AsSpan(dash + 1), out var parts) && parts > 0 ? parts : null;
    }
}
