using System.Security.Cryptography;

namespace Monolith.Tests.Storage;

/// <summary>
/// <paramref name="length"/> pseudo-random bytes made as they are read (never held whole), hashed as they pass
/// (<see cref="Sha256"/> once read to the end); with <paramref name="failAfter"/>, reading past that many bytes throws
/// <see cref="IOException"/>, as a client that goes away mid-upload does.
/// </summary>
public sealed class GeneratedStream(long length, long? failAfter = null) : Stream
{
    private readonly Random _random = new(); // unseeded: the fast generator (a seeded Random keeps the old, slow one)
    private readonly IncrementalHash _sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private long _position;

    /// <summary>The SHA-256 (lower-case hex) of every byte produced, once the end was reached.</summary>
    public string? Sha256 { get; private set; }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (_position >= failAfter) throw new IOException($"The content broke off after {_position} bytes.");
        var count = (int)Math.Min(buffer.Length, Math.Min(length, failAfter ?? long.MaxValue) - _position);
        if (count <= 0)
        {
            Sha256 ??= Convert.ToHexStringLower(_sha256.GetHashAndReset());
            return 0;
        }
        _random.NextBytes(buffer[..count]);
        _sha256.AppendData(buffer[..count]);
        _position += count;
        return count;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) => ValueTask.FromResult(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) => Task.FromResult(Read(buffer, offset, count));

    protected override void Dispose(bool disposing)
    {
        if (disposing) _sha256.Dispose();
        base.Dispose(disposing);
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => _position; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
