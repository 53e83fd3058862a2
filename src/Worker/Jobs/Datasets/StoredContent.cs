using System.IO.Compression;
using Monolith.Worker.Engine;
using Monolith.Worker.Storage;

namespace Monolith.Worker.Jobs.Datasets;

/// <summary>One file to read out of a stored upload: the upload itself, the content of a gzip, or one entry of a zip.</summary>
/// <param name="FileName">The file's name (a gzip's inner name, a zip entry's name without folders).</param>
/// <param name="FullName">Inside a zip, the entry's path (outside text: make it storable before keeping it); else <paramref name="FileName"/>.</param>
public sealed record StoredPart(string FileName, string FullName, Stream Content, bool InArchive);

/// <summary>
/// How a stored upload is read as text files (datasets and imports): plain, gzip, or a zip of several files, told apart
/// by their first bytes. Compressed content is read through one <see cref="DecompressionBudget"/> (the
/// <c>Datasets__MaxDecompressedBytes</c> and <c>Datasets__MaxCompressionRatio</c> settings), and a zip's directory one
/// entry at a time (<see cref="ZipEntries"/>, at most <c>Datasets__MaxZipEntries</c>), so neither a bomb nor a zip of
/// millions of entries gets far.
/// </summary>
public static class StoredContent
{
    /// <summary>
    /// The stored file, seekable (a zip needs it, progress reads the position); spooled to a temporary file if the store
    /// streams. A file no longer stored fails the job (<see cref="PermanentJobException"/>).
    /// </summary>
    public static async Task<Stream> OpenSeekableAsync(IFileStore store, string key, CancellationToken ct)
    {
        Stream stream;
        try
        {
            stream = await store.OpenReadAsync(key, ct);
        }
        catch (StoredFileNotFoundException ex)
        {
            throw new PermanentJobException("The uploaded file is no longer stored.", ex);
        }
        if (stream.CanSeek) return stream;

        var spool = new FileStream(Path.GetTempFileName(), FileMode.Create, FileAccess.ReadWrite, FileShare.None, 81_920,
            FileOptions.Asynchronous | FileOptions.DeleteOnClose);
        await using (stream) await stream.CopyToAsync(spool, ct);
        spool.Position = 0;
        return spool;
    }

    /// <summary>
    /// The files in <paramref name="stored"/> (positioned at 0), read lazily: the file itself (never closed by disposing
    /// its part), a gzip's content (named <paramref name="fileName"/> without <c>.gz</c>), or the zip entries that
    /// <paramref name="takeEntry"/> accepts, in directory order (folders are never offered). A zip yields nothing when
    /// it takes no entry.
    /// </summary>
    public static IEnumerable<StoredPart> Read(Stream stored, string fileName, DatasetOptions limits, Func<ZipEntry, bool> takeEntry)
    {
        Span<byte> magic = stackalloc byte[4];
        var read = stored.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
        stored.Position = 0;
        var budget = new DecompressionBudget(fileName, limits.MaxDecompressedBytes, limits.MaxCompressionRatio);

        if (read >= 2 && magic[0] == 0x1F && magic[1] == 0x8B)
        {
            // yob2020.txt.gz holds yob2020.txt; a gzip file uploaded under its inner name is read as that.
            var inner = fileName.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? fileName[..^3] : fileName;
            yield return new StoredPart(inner, inner, budget.Limit(new GZipStream(budget.Counting(stored), CompressionMode.Decompress)), false);
        }
        else if (read == 4 && magic[0] == 0x50 && magic[1] == 0x4B && magic[2] == 0x03 && magic[3] == 0x04)
        {
            foreach (var entry in ZipEntries.Read(stored, fileName, limits.MaxZipEntries, "Datasets__MaxZipEntries"))
            {
                if (entry.IsDirectory || !takeEntry(entry)) continue;
                yield return new StoredPart(entry.Name, entry.FullName, budget.Limit(ZipEntries.Open(stored, entry, budget.CountCompressed), entry.Length), true);
            }
        }
        else
        {
            yield return new StoredPart(fileName, fileName, new NonClosingStream(stored), false);
        }
    }

    /// <summary>Lets a reader be disposed without closing the stored file underneath (its position still counts progress).</summary>
    private sealed class NonClosingStream(Stream inner) : Stream
    {
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) => inner.ReadAsync(buffer, ct);
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) => inner.ReadAsync(buffer, offset, count, ct);
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
