using System.Globalization;
using System.Security.Cryptography;
using Amazon.Runtime;
using Amazon.Runtime.Internal.Util;
using Amazon.S3.Model;

namespace Monolith.Worker.Storage;

/// <summary>
/// The body of a GET, read straight from the connection and checked against the object's ETag when it ends: a plain
/// MD5 ETag (one PUT) against the MD5 of the bytes, S3's multipart form (<c>md5(part MD5s)-N</c>) against the MD5s of
/// its parts, their size read from the metadata the writer left. Both are hashed here with the platform's MD5: the
/// SDK would check a plain ETag itself, but with its own managed MD5 (362 MB/s on this machine against 868 MB/s for
/// <see cref="IncrementalHash"/>, the largest CPU cost of a transfer from S3), so the body is read from beneath the
/// SDK's checking stream. Without <c>checkETag</c> (the caller checks a recorded SHA-256 of the whole content) nothing
/// is hashed here. Its length must be the answer's <c>Content-Length</c>. A reader that stops early checks nothing.
/// Disposing it closes the connection.
/// </summary>
internal sealed class S3ObjectStream : Stream
{
    private readonly GetObjectResponse _response;
    private readonly Stream _body;
    private readonly string _key;
    private readonly string _etag;
    private readonly long _length;
    private readonly long? _partSize;
    private readonly IncrementalHash? _md5;
    private readonly List<byte[]> _partMd5s = [];
    private long _inPart;
    private long _read;
    private bool _checked;

    public S3ObjectStream(GetObjectResponse response, string key, bool checkETag)
    {
        _response = response;
        _body = response.ResponseStream is MD5Stream sdkCheck ? sdkCheck.GetNonWrapperBaseStream() : response.ResponseStream;
        _key = key;
        _etag = S3ETag.Normalize(response.ETag);
        _length = response.ContentLength;
        if (!checkETag) return;
        _md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        if (S3ETag.PartCount(_etag) is not null)
        {
            _partSize = long.TryParse(response.Metadata[S3ETag.PartSizeMetadata], NumberStyles.None, CultureInfo.InvariantCulture, out var size) && size > 0
                ? size
                : throw new FileStoreException($"The stored object '{key}' has a multipart ETag but no part size: it was not written by this service and cannot be checked.");
        }
        else if (_etag.Length != 32)
        {
            throw new FileStoreException($"The stored object '{key}' has no MD5 ETag ('{_etag}'): it cannot be checked.");
        }
    }

    public override int Read(byte[] buffer, int offset, int count)
    {
        try
        {
            return Hashed(buffer.AsSpan(offset), _body.Read(buffer, offset, count));
        }
        catch (AmazonClientException ex)
        {
            throw Mismatch(ex);
        }
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
    {
        int read;
        try
        {
            read = await _body.ReadAsync(buffer, ct);
        }
        catch (AmazonClientException ex)
        {
            throw Mismatch(ex);
        }
        return Hashed(buffer.Span, read);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
        ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

    private int Hashed(ReadOnlySpan<byte> buffer, int read)
    {
        if (read == 0)
        {
            Check();
            return 0;
        }
        _read += read;
        if (_md5 is null) return read;
        var bytes = buffer[..read];
        if (_partSize is not { } partSize)
        {
            _md5.AppendData(bytes);
            return read;
        }
        while (bytes.Length > 0)
        {
            var take = (int)Math.Min(bytes.Length, partSize - _inPart);
            _md5.AppendData(bytes[..take]);
            bytes = bytes[take..];
            _inPart += take;
            if (_inPart == partSize) EndPart();
        }
        return read;
    }

    private void EndPart()
    {
        _partMd5s.Add(_md5!.GetHashAndReset());
        _inPart = 0;
    }

    private void Check()
    {
        if (_checked) return;
        _checked = true;
        if (_read != _length) throw new FileStoreException($"The stored object '{_key}' ended after {_read} of its {_length} bytes.");
        if (_md5 is null) return; // the caller checks the content
        if (_partSize is null)
        {
            if (S3ETag.OfSinglePart(_md5.GetHashAndReset()) != _etag) throw Mismatch(null);
            return;
        }
        if (_inPart > 0) EndPart();
        if (S3ETag.OfMultipart(_partMd5s) != _etag) throw Mismatch(null);
    }

    private FileStoreException Mismatch(Exception? inner) =>
        new($"The stored object '{_key}' does not match its ETag: its bytes were changed or corrupted on the way.", inner);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _response.Dispose();
            _md5?.Dispose();
        }
        base.Dispose(disposing);
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => _length;
    public override long Position { get => _read; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
