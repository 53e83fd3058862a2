using System.Security.Cryptography;
using Monolith.Worker.Engine;

namespace Monolith.Worker.Jobs.Transfers;

/// <summary>
/// The one stream a transfer's bytes go through, source to destination, with one fixed buffer
/// (<see cref="BufferSize"/>): memory does not grow with the document. It hashes the bytes (SHA-256) as it reads
/// them and reads one buffer ahead, so it knows the end of the source before it hands over the last bytes: if the
/// bytes are not the expected ones (an upload whose stored file no longer matches its SHA-256, a URL that changed
/// since an earlier attempt) it throws <see cref="TransferVerificationException"/> instead, and the destination
/// never receives a complete document. Errors reading the source come out as <see cref="SourceReadException"/>,
/// so that they are told apart from the destination's.
/// </summary>
public sealed class TransferStream : Stream
{
    public const int BufferSize = 128 * 1024;

    private readonly Stream _source;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly byte[] _buffer = new byte[BufferSize];
    private readonly Func<long, CancellationToken, Task>? _progress;
    private readonly long _progressInterval;
    private long _nextProgress;
    private Task _progressReport = Task.CompletedTask;
    private int _start, _end;
    private bool _sourceDone;

    /// <param name="expectedSha256">Hex SHA-256 the source's bytes must have, or null when not known.</param>
    /// <param name="expectedLength">The size they must have, or null.</param>
    /// <param name="progress">Called with the bytes handed over so far, about every <paramref name="progressInterval"/> bytes (never two at once).</param>
    public TransferStream(Stream source, string? expectedSha256, long? expectedLength,
        Func<long, CancellationToken, Task>? progress = null, long progressInterval = 8L << 20)
    {
        _source = source;
        ExpectedSha256 = expectedSha256?.ToLowerInvariant();
        ExpectedLength = expectedLength;
        _progress = progress;
        _progressInterval = progressInterval;
        _nextProgress = progressInterval;
    }

    public string? ExpectedSha256 { get; }
    public long? ExpectedLength { get; }

    /// <summary>Bytes read from the source (and hashed).</summary>
    public long BytesRead { get; private set; }

    /// <summary>Bytes handed to the destination.</summary>
    public long BytesDelivered { get; private set; }

    /// <summary>The source was read to its end, verified, and every byte handed over.</summary>
    public bool Completed => _sourceDone && _start == _end;

    /// <summary>SHA-256 of the whole source (lower-case hex), once it was read to its end.</summary>
    public string? Sha256 { get; private set; }

    /// <summary>The same, as bytes.</summary>
    public byte[]? Sha256Bytes { get; private set; }

    public override async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken ct = default)
    {
        if (destination.Length == 0) return 0;
        if (_start == _end)
        {
            if (_sourceDone) return 0;
            await FillAsync(ct);
            if (_start == _end) return 0;
        }
        var count = Math.Min(destination.Length, _end - _start);
        _buffer.AsMemory(_start, count).CopyTo(destination);
        _start += count;
        BytesDelivered += count;
        // Read ahead: learn whether these were the source's last bytes, and verify it, before handing them over.
        if (_start == _end && !_sourceDone) await FillAsync(ct);
        if (_progress is not null && BytesDelivered >= _nextProgress && _progressReport.IsCompleted)
        {
            // Progress is written beside the bytes, not in their way: one report at a time, started here and awaited
            // only when the next is due (or by ProgressWrittenAsync), so a slow database does not slow the copy.
            await _progressReport;
            _nextProgress = BytesDelivered + _progressInterval;
            _progressReport = _progress(BytesDelivered, ct);
        }
        return count;
    }

    /// <summary>Waits for the progress report under way, if any (before the caller writes to the same database context).</summary>
    public async Task ProgressWrittenAsync()
    {
        try
        {
            await _progressReport;
        }
        catch (Exception) when (_progressReport.IsCanceled || _progressReport.IsFaulted)
        {
            // A report that failed (cancelled, database away) is only progress: the outcome is written next.
        }
    }

    private async Task FillAsync(CancellationToken ct)
    {
        int read;
        try
        {
            read = await _source.ReadAsync(_buffer, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            throw new SourceReadException(ex);
        }
        _start = 0;
        _end = read;
        if (read == 0)
        {
            Finish();
            return;
        }
        _hash.AppendData(_buffer, 0, read);
        BytesRead += read;
        if (BytesRead > ExpectedLength)
        {
            throw new TransferVerificationException(
                $"Checksum mismatch: the source has more than the {ExpectedLength:N0} bytes it should have; nothing was delivered.");
        }
    }

    private void Finish()
    {
        _sourceDone = true;
        Sha256Bytes = _hash.GetHashAndReset();
        Sha256 = Convert.ToHexStringLower(Sha256Bytes);
        if (ExpectedLength is { } length && BytesRead != length)
        {
            throw new TransferVerificationException(
                $"Checksum mismatch: the source has {BytesRead:N0} bytes where {length:N0} were expected; nothing was delivered.");
        }
        if (ExpectedSha256 is { } expected && expected != Sha256)
        {
            throw new TransferVerificationException(
                $"Checksum mismatch: the source's bytes have SHA-256 {Sha256}, not the expected {expected}; nothing was delivered.");
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
        ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

    public override int Read(byte[] buffer, int offset, int count) =>
        ReadAsync(buffer.AsMemory(offset, count), CancellationToken.None).AsTask().GetAwaiter().GetResult();

    protected override void Dispose(bool disposing)
    {
        if (disposing) _hash.Dispose();
        base.Dispose(disposing);
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => BytesDelivered; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

/// <summary>The bytes are not the ones expected (a checksum mismatch, a source that changed): never retried.</summary>
public sealed class TransferVerificationException(string message) : PermanentJobException(message);

/// <summary>Reading the source failed midway (the destination's call carries it as an inner exception).</summary>
public sealed class SourceReadException(Exception inner) : Exception($"Reading the source failed: {inner.Message}", inner);
