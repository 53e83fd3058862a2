using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Monolith.Tests.Storage;

/// <summary>
/// <paramref name="length"/> pseudo-random bytes made as they are read (never held whole), hashed as they pass
/// (<see cref="Sha256"/> once read to the end); with <paramref name="failAfter"/>, reading past that many bytes throws
/// <see cref="IOException"/>, as a client that goes away mid-upload does. With <paramref name="seed"/>, the bytes are a
/// function of the seed and their position (SplitMix64 of each 8-byte word's index): two streams of one seed give the
/// same bytes, so a test can learn their SHA-256 (<see cref="Sha256Of"/>) before sending them, as a pre-signed
/// upload declares it.
/// </summary>
public sealed class GeneratedStream(long length, long? failAfter = null, ulong? seed = null) : Stream
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
        if (seed is { } s) Fill(buffer[..count], s, _position);
        else _random.NextBytes(buffer[..count]);
        _sha256.AppendData(buffer[..count]);
        _position += count;
        return count;
    }

    /// <summary>The SHA-256 of the <paramref name="length"/> bytes a stream of <paramref name="seed"/> gives (read once, in 1 MiB blocks).</summary>
    public static string Sha256Of(long length, ulong seed)
    {
        using var stream = new GeneratedStream(length, seed: seed);
        var block = new byte[1 << 20];
        while (stream.Read(block) > 0) { }
        return stream.Sha256!;
    }

    /// <summary>The bytes at <paramref name="position"/>: byte i of word w is byte i (little-endian) of SplitMix64(seed + w).</summary>
    private static void Fill(Span<byte> buffer, ulong seed, long position)
    {
        var i = 0;
        while (i < buffer.Length)
        {
            var at = position + i;
            var word = Mix(seed + (ulong)(at >> 3));
            var offset = (int)(at & 7);
            if (offset == 0 && buffer.Length - i >= 8)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(buffer[i..], word);
                i += 8;
                continue;
            }
            buffer[i++] = (byte)(word >> (8 * offset));
        }
    }

    private static ulong Mix(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
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
