namespace Monolith.Worker.Storage;

/// <summary>
/// Reads through to <paramref name="inner"/> and throws <see cref="FileTooLargeException"/> as soon as more than
/// <paramref name="limit"/> bytes have come through: a size limit enforced while streaming, whatever the client
/// claimed up front.
/// </summary>
public sealed class LimitedReadStream(Stream inner, long limit) : Stream
{
    public long BytesRead { get; private set; }

    public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) =>
        Count(await inner.ReadAsync(buffer, ct));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
        ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

    private int Count(int read)
    {
        BytesRead += read;
        if (BytesRead > limit) throw new FileTooLargeException(limit);
        return read;
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => BytesRead; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
