using System.Buffers;
using System.Net;
using System.Security.Cryptography;
using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace Monolith.Worker.Storage;

/// <summary>
/// Files as objects in one bucket of an S3-compatible store (AWS SDK for .NET), keyed as <see cref="IFileStore"/> says:
/// every node reaches the same files without a shared disk.
/// <para>
/// Streaming both ways: a write reads its content in parts of <see cref="S3StorageOptions.PartSizeBytes"/> into two
/// pooled buffers (one part sent while the next is read) and sends a file smaller than one part in a single PUT, a
/// larger one as a multipart upload, which the store makes visible only when completed and which is aborted when
/// anything fails: the object appears whole or not at all. A read streams the GET's body.
/// </para>
/// <para>
/// Checksums: each PUT and part carries its MD5 (<c>Content-MD5</c>, which S3 and MinIO verify) and the ETag the store
/// answers must be that MD5, so a part the store did not receive intact fails the write; the completion's ETag is
/// checked where it has S3's multipart form. A read checks, at the end of the bytes, their count against
/// <c>Content-Length</c> and their MD5s against the object's ETag (<see cref="S3ObjectStream"/>). The
/// SDK's own flexible checksums (CRC32 headers and <c>aws-chunked</c> trailers) are off: many S3-compatible servers
/// (s3rver among them) know neither, and parts are sent from a buffer of known length, so chunked SigV4 uploads
/// buy nothing. Stores whose ETags are not MD5s (SSE-KMS or SSE-C on AWS) are therefore not supported.
/// </para>
/// Failures of the store come out as <see cref="FileStoreException"/> (an <see cref="IOException"/>).
/// </summary>
public sealed class S3FileStore : IFileStore, IDirectUploadStore, IDisposable
{
    /// <summary>S3's most parts in one multipart upload.</summary>
    private const int MaxParts = 10_000;

    private readonly AmazonS3Client _client;
    private readonly string _bucket;
    private readonly int _partSize;
    private readonly Protocol _protocol;

    public S3FileStore(S3StorageOptions options)
    {
        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle,
            AuthenticationRegion = options.Region,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            HttpClientFactory = new S3HttpClientFactory(),
        };
        if (options.ServiceUrl is { Length: > 0 } url) config.ServiceURL = url;
        else config.RegionEndpoint = RegionEndpoint.GetBySystemName(options.Region);
        _client = options.AccessKeyId is { Length: > 0 } keyId
            ? new AmazonS3Client(new BasicAWSCredentials(keyId, options.SecretAccessKey), config)
            : new AmazonS3Client(config);
        _bucket = options.Bucket;
        _partSize = options.PartSizeBytes;
        _protocol = options.ServiceUrl is { } service && service.StartsWith("http:", StringComparison.OrdinalIgnoreCase) ? Protocol.HTTP : Protocol.HTTPS;
    }

    public async Task<long> WriteAsync(string key, Stream content, CancellationToken ct)
    {
        StorageKey.Checked(key);
        byte[][] buffers = [ArrayPool<byte>.Shared.Rent(_partSize), ArrayPool<byte>.Shared.Rent(_partSize)];
        string? uploadId = null;
        Task<PartETag>? sending = null;
        try
        {
            var length = await FillAsync(content, buffers[0], ct);
            if (length < _partSize)
            {
                await PutAsync(key, buffers[0], length, ct);
                return length;
            }

            uploadId = await StartMultipartAsync(key, ct);
            var parts = new List<PartETag>();
            var partMd5s = new List<byte[]>();
            long total = 0;
            for (var (part, filled) = (1, length); filled > 0; part++)
            {
                if (part > MaxParts) throw new FileStoreException($"'{key}' needs more than {MaxParts} parts of {_partSize} bytes: raise Storage:S3:PartSizeBytes.");
                var buffer = buffers[(part - 1) % 2];
                var md5 = MD5.HashData(buffer.AsSpan(0, filled));
                partMd5s.Add(md5);
                var previous = sending;
                sending = UploadPartAsync(key, uploadId, part, buffer, filled, md5, ct);
                total += filled;
                if (previous is not null) parts.Add(await previous);
                filled = await FillAsync(content, buffers[part % 2], ct); // the buffer the previous part was sent from
            }
            parts.Add(await sending!);
            sending = null;
            await CompleteAsync(key, uploadId, parts, partMd5s, ct);
            uploadId = null;
            return total;
        }
        finally
        {
            // A part still being sent reads its buffer: let it end before the buffers go back to the pool.
            if (sending is not null)
            {
                try
                {
                    await sending;
                }
                catch (Exception ex) when (ex is FileStoreException or OperationCanceledException)
                {
                    // Already failed the write, or will be reported by what failed it.
                }
            }
            if (uploadId is not null) await AbortQuietlyAsync(key, uploadId);
            foreach (var buffer in buffers) ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public async Task<Stream> OpenReadAsync(string key, CancellationToken ct, bool callerChecksContent = false)
    {
        StorageKey.Checked(key);
        GetObjectResponse response;
        try
        {
            response = await _client.GetObjectAsync(new GetObjectRequest { BucketName = _bucket, Key = key }, ct);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound && ex.ErrorCode != "NoSuchBucket")
        {
            throw new StoredFileNotFoundException(key);
        }
        catch (Exception ex) when (IsStoreFailure(ex))
        {
            throw Failure("GET", key, ex);
        }
        try
        {
            return new S3ObjectStream(response, key, checkETag: !callerChecksContent);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A seekable stream over the object under <paramref name="key"/>, of <paramref name="length"/> bytes, that reads
    /// with ranged GETs from wherever it is positioned (<see cref="S3RangedStream"/>: for answering <c>Range</c>
    /// requests; its bytes are not checked against the ETag). Nothing is sent until the first read.
    /// </summary>
    public Stream OpenRanged(string key, long length) => new S3RangedStream(this, StorageKey.Checked(key), length);

    /// <summary>A GET of bytes <paramref name="from"/> to <paramref name="to"/> (inclusive) of the object under <paramref name="key"/>.</summary>
    internal async Task<GetObjectResponse> GetRangeAsync(string key, long from, long to, CancellationToken ct)
    {
        try
        {
            return await _client.GetObjectAsync(new GetObjectRequest { BucketName = _bucket, Key = key, ByteRange = new ByteRange(from, to) }, ct);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound && ex.ErrorCode != "NoSuchBucket")
        {
            throw new StoredFileNotFoundException(key);
        }
        catch (Exception ex) when (IsStoreFailure(ex))
        {
            throw Failure("GET (range)", key, ex);
        }
    }

    public async Task DeleteAsync(string key, CancellationToken ct)
    {
        StorageKey.Checked(key);
        try
        {
            await _client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = _bucket, Key = key }, ct);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound && ex.ErrorCode != "NoSuchBucket")
        {
            // Already gone.
        }
        catch (Exception ex) when (IsStoreFailure(ex))
        {
            throw Failure("DELETE", key, ex);
        }
    }

    public PresignedPut PresignPut(string key, string contentType, DateTimeOffset expiresAt)
    {
        StorageKey.Checked(key);
        // SigV4 query signing, computed locally: the Content-Type is a signed header, so the store refuses another one.
        var url = _client.GetPreSignedURL(new GetPreSignedUrlRequest
        {
            BucketName = _bucket,
            Key = key,
            Verb = HttpVerb.PUT,
            ContentType = contentType,
            Expires = expiresAt.UtcDateTime,
            Protocol = _protocol,
        });
        return new PresignedPut(new Uri(url), expiresAt, new Dictionary<string, string> { ["Content-Type"] = contentType });
    }

    public async Task<StoredObjectInfo> InfoAsync(string key, CancellationToken ct)
    {
        StorageKey.Checked(key);
        try
        {
            var head = await _client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = _bucket, Key = key }, ct);
            return new StoredObjectInfo(head.ContentLength, head.Headers.ContentType);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound && ex.ErrorCode != "NoSuchBucket")
        {
            throw new StoredFileNotFoundException(key);
        }
        catch (Exception ex) when (IsStoreFailure(ex))
        {
            throw Failure("HEAD", key, ex);
        }
    }

    public void Dispose() => _client.Dispose();

    /// <summary>Reads until <paramref name="buffer"/>'s first part-size bytes are full or the content ends; returns the count.</summary>
    private async Task<int> FillAsync(Stream content, byte[] buffer, CancellationToken ct) =>
        await content.ReadAtLeastAsync(buffer.AsMemory(0, _partSize), _partSize, throwOnEndOfStream: false, ct);

    private async Task PutAsync(string key, byte[] buffer, int length, CancellationToken ct)
    {
        var md5 = MD5.HashData(buffer.AsSpan(0, length));
        PutObjectResponse response;
        try
        {
            response = await _client.PutObjectAsync(new PutObjectRequest
            {
                BucketName = _bucket,
                Key = key,
                InputStream = new MemoryStream(buffer, 0, length, writable: false),
                AutoCloseStream = false,
                MD5Digest = Convert.ToBase64String(md5),
                DisableDefaultChecksumValidation = true, // the MD5 above is the check: the SDK's would hash the part again with its slower managed MD5
                UseChunkEncoding = false,
                ContentType = "application/octet-stream",
            }, ct);
        }
        catch (Exception ex) when (IsStoreFailure(ex))
        {
            throw Failure("PUT", key, ex);
        }
        ExpectETag(key, "PUT", response.ETag, S3ETag.OfSinglePart(md5));
    }

    private async Task<string> StartMultipartAsync(string key, CancellationToken ct)
    {
        try
        {
            var request = new InitiateMultipartUploadRequest { BucketName = _bucket, Key = key, ContentType = "application/octet-stream" };
            request.Metadata.Add(S3ETag.PartSizeMetadata, _partSize.ToString(System.Globalization.CultureInfo.InvariantCulture));
            return (await _client.InitiateMultipartUploadAsync(request, ct)).UploadId;
        }
        catch (Exception ex) when (IsStoreFailure(ex))
        {
            throw Failure("multipart upload start", key, ex);
        }
    }

    private async Task<PartETag> UploadPartAsync(string key, string uploadId, int part, byte[] buffer, int length, byte[] md5, CancellationToken ct)
    {
        UploadPartResponse response;
        try
        {
            response = await _client.UploadPartAsync(new UploadPartRequest
            {
                BucketName = _bucket,
                Key = key,
                UploadId = uploadId,
                PartNumber = part,
                PartSize = length,
                InputStream = new MemoryStream(buffer, 0, length, writable: false),
                MD5Digest = Convert.ToBase64String(md5),
                DisableDefaultChecksumValidation = true, // the MD5 above is the check: the SDK's would hash the part again with its slower managed MD5
                UseChunkEncoding = false,
            }, ct);
        }
        catch (Exception ex) when (IsStoreFailure(ex))
        {
            throw Failure($"part {part} upload", key, ex);
        }
        ExpectETag(key, $"part {part}", response.ETag, S3ETag.OfSinglePart(md5));
        return new PartETag(part, response.ETag);
    }

    private async Task CompleteAsync(string key, string uploadId, List<PartETag> parts, List<byte[]> partMd5s, CancellationToken ct)
    {
        CompleteMultipartUploadResponse response;
        try
        {
            response = await _client.CompleteMultipartUploadAsync(
                new CompleteMultipartUploadRequest { BucketName = _bucket, Key = key, UploadId = uploadId, PartETags = parts }, ct);
        }
        catch (Exception ex) when (IsStoreFailure(ex))
        {
            throw Failure("multipart upload completion", key, ex);
        }
        // S3's form names the parts it joined; a plain MD5 (s3rver) is the whole file's, checked by every read.
        var etag = S3ETag.Normalize(response.ETag);
        if (S3ETag.PartCount(etag) is not null) ExpectETag(key, "completed upload", etag, S3ETag.OfMultipart(partMd5s));
    }

    private async Task AbortQuietlyAsync(string key, string uploadId)
    {
        try
        {
            await _client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = _bucket, Key = key, UploadId = uploadId });
        }
        catch (Exception ex) when (IsStoreFailure(ex))
        {
            // Best effort: an incomplete upload is invisible, and a bucket lifecycle rule removes what is left.
        }
    }

    private static void ExpectETag(string key, string what, string? answered, string expected)
    {
        if (S3ETag.Normalize(answered) != expected)
        {
            throw new FileStoreException(
                $"The store's ETag for the {what} of '{key}' is not the MD5 of the bytes sent: they did not arrive intact (or the bucket's ETags are not MD5s).");
        }
    }

    /// <summary>The store answered with an error, or could not be reached (the SDK's retries spent).</summary>
    private static bool IsStoreFailure(Exception ex) => ex is AmazonServiceException or AmazonClientException or HttpRequestException;

    /// <summary>The store's refusal or an unreachable store, naming the operation and the key: never the credentials.</summary>
    private FileStoreException Failure(string operation, string key, Exception ex) =>
        new($"S3 {operation} of '{key}' in bucket '{_bucket}' failed: " +
            (ex is AmazonServiceException { StatusCode: var status, ErrorCode: var code } && (int)status > 0 ? $"{(int)status} {code} " : "") +
            ex.Message, ex);
}
