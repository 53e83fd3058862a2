using Monolith.Worker.Engine;

namespace Monolith.Worker.Jobs.Datasets;

/// <summary>
/// What a compressed dataset file may expand to (<see cref="DatasetOptions.MaxDecompressedBytes"/>,
/// <see cref="DatasetOptions.MaxCompressionRatio"/>), counted across all of its content (every entry of a zip) as it
/// is read: the compressed bytes the decompressor takes (<see cref="CountCompressed"/>) against the bytes it gives
/// (<see cref="Limit"/>). Passing either limit fails the job at once (<see cref="PermanentJobException"/>, naming the
/// setting), so a bomb stops after a few megabytes, not after filling the table for an hour.
/// </summary>
public sealed class DecompressionBudget(string fileName, long maxBytes, double maxRatio)
{
    /// <summary>
    /// Below this many bytes out the ratio is not judged: the decompressor reads its input ahead in blocks, so the
    /// first measures overstate what it took, and a tiny file may well shrink a lot.
    /// </summary>
    public const long RatioGraceBytes = 1L << 20;

    public long Compressed { get; private set; }
    public long Decompressed { get; private set; }

    /// <summary>Counts compressed bytes taken by the decompressor.</summary>
    public void CountCompressed(int bytes) => Compressed += bytes;

    /// <summary>A compressed source that counts what is read from it (for gzip, whose input is the stored file itself).</summary>
    public Stream Counting(Stream compressed) => new CountingStream(compressed, this);

    /// <summary>
    /// <paramref name="decompressed"/>, checked against the limits on every read; when <paramref name="expectedLength"/>
    /// is given (a zip entry's declared size), an end at another length is a corrupt archive.
    /// </summary>
    public Stream Limit(Stream decompressed, long? expectedLength = null) => new LimitedStream(decompressed, this, expectedLength);

    private void CountDecompressed(int bytes)
    {
        Decompressed += bytes;
        if (Decompressed > maxBytes)
        {
            throw new PermanentJobException(
                $"'{fileName}' decompresses to more than {maxBytes:N0} bytes, the most allowed (Datasets__MaxDecompressedBytes); nothing was kept.");
        }
        if (Decompressed > RatioGraceBytes && Decompressed > maxRatio * Compressed)
        {
            throw new PermanentJobException(
                $"'{fileName}' expands more than {maxRatio:N0} times its compressed size, the most allowed (Datasets__MaxCompressionRatio): " +
                $"{Decompressed:N0} bytes from {Compressed:N0}; nothing was kept.");
        }
    }

    private sealed class CountingStream(Stream inner, DecompressionBudget budget) : ReadOnlyStream
    {
        public override int Read(Span<byte> buffer)
        {
            var n = inner.Read(buffer);
            budget.CountCompressed(n);
            return n;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
        {
            var n = await inner.ReadAsync(buffer, ct);
            budget.CountCompressed(n);
            return n;
        }
    }

    private sealed class LimitedStream(Stream inner, DecompressionBudget budget, long? expectedLength) : ReadOnlyStream
    {
        private long _read;

        public override int Read(Span<byte> buffer) => Counted(inner.Read(buffer));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) =>
            Counted(await inner.ReadAsync(buffer, ct));

        private int Counted(int n)
        {
            if (n == 0 && expectedLength is { } expected && _read != expected)
            {
                throw new InvalidDataException($"an entry holds {_read:N0} bytes where its header says {expected:N0}.");
            }
            _read += n;
            budget.CountDecompressed(n);
            return n;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }

    /// <summary>The parts of <see cref="Stream"/> a forward-only reader does not use.</summary>
    private abstract class ReadOnlyStream : Stream
    {
        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) => ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
