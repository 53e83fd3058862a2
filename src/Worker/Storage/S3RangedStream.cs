using Amazon.S3.Model;

namespace Monolith.Worker.Storage;

/// <summary>
/// A seekable view of an object of known length (<see cref="S3FileStore.OpenRanged"/>): a read from where it is
/// positioned opens a ranged GET from there to the end and goes on reading that body while reads follow one another;
/// a seek elsewhere closes it and the next read opens another. ASP.NET Core answers a <c>Range</c> request from it
/// (seek, then read the range's bytes), so only those bytes leave the store. A range's bytes are not checked against
/// the object's ETag (an MD5 of the whole); whole reads go through <see cref="S3FileStore.OpenReadAsync"/>, which are.
/// </summary>
internal sealed class S3RangedStream(S3FileStore store, string key, long length) : Stream
{
    private GetObjectResponse? _response;
    private long _responseAt;
    private long _position;

    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length => length;

    public override long Position
    {
        get => _position;
        set => Seek(value, SeekOrigin.Begin);
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        var target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => length + offset,
        };
        ArgumentOutOfRangeException.ThrowIfNegative(target, nameof(offset));
        return _position = target;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
    {
        if (_position >= length || buffer.Length == 0) return 0;
        if (_response is null || _responseAt != _position)
        {
            _response?.Dispose();
            _response = null;
            _response = await store.GetRangeAsync(key, _position, length - 1, ct);
            _responseAt = _position;
        }
        var read = await _response.ResponseStream.ReadAsync(buffer, ct);
        if (read == 0) throw new FileStoreException($"The stored object '{key}' ended at byte {_position} of {length}.");
        _position += read;
        _responseAt += read;
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
        ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    protected override void Dispose(bool disposing)
    {
        if (disposing) _response?.Dispose();
        base.Dispose(disposing);
    }

    public override void Flush() { }
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
