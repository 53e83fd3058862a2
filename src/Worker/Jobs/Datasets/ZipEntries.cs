using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Monolith.Worker.Engine;

namespace Monolith.Worker.Jobs.Datasets;

/// <summary>One file of a zip, as its central directory describes it.</summary>
/// <param name="FullName">The entry's path in the archive (<c>notes/readme.txt</c>), decoded as UTF-8: outside text, possibly unstorable.</param>
public sealed record ZipEntry(string FullName, int Flags, int Method, long CompressedLength, long Length, long LocalHeaderOffset)
{
    /// <summary>The file's name without its folders (after the last <c>/</c> or <c>\</c>).</summary>
    public string Name => FullName[(FullName.LastIndexOfAny(['/', '\\']) + 1)..];

    /// <summary>A folder, not a file.</summary>
    public bool IsDirectory => FullName.EndsWith('/') || FullName.EndsWith('\\');
}

/// <summary>
/// Reads a zip from a seekable stream as a stream: the central directory one record at a time (never a list of
/// every entry), and an entry's content straight from its place in the file. <see cref="System.IO.Compression.ZipArchive"/>
/// reads the whole directory into memory first, so a zip of millions of tiny entries would take gigabytes before
/// anything could refuse it. Here the number of entries the directory declares is checked against
/// <c>maxEntries</c> before any is read, and the records are counted as they are read.
/// Stored (0) and deflated (8) entries can be opened, as the public names files are; a structure that does not hold
/// together is an <see cref="InvalidDataException"/>, like a corrupt archive for <c>ZipArchive</c>.
/// </summary>
public static class ZipEntries
{
    private const uint LocalHeaderSignature = 0x04034B50;
    private const uint DirectoryRecordSignature = 0x02014B50;
    private const uint EndSignature = 0x06054B50;
    private const uint Zip64EndSignature = 0x06064B50;
    private const uint Zip64LocatorSignature = 0x07064B50;
    private const int EndLength = 22;
    private const int DirectoryRecordLength = 46;
    private const int LocalHeaderLength = 30;

    /// <summary>
    /// The entries of the zip in <paramref name="zip"/>, in directory order, read lazily. More than
    /// <paramref name="maxEntries"/> (declared or found) fails with a <see cref="PermanentJobException"/> naming
    /// <paramref name="setting"/>. The stream's position is moved; open an entry's content with <see cref="Open"/>.
    /// </summary>
    public static IEnumerable<ZipEntry> Read(Stream zip, string archiveName, int maxEntries, string setting)
    {
        var (count, directoryOffset, directoryLength) = FindDirectory(zip);
        if (count > maxEntries) throw TooMany(archiveName, maxEntries, setting);
        var position = directoryOffset;
        var end = directoryOffset + directoryLength;
        var fixedPart = new byte[DirectoryRecordLength];
        for (long read = 0; read < count; read++)
        {
            if (position + DirectoryRecordLength > end) throw Corrupt("the central directory ends before its last entry");
            zip.Position = position;
            zip.ReadExactly(fixedPart);
            var record = fixedPart.AsSpan();
            if (BinaryPrimitives.ReadUInt32LittleEndian(record) != DirectoryRecordSignature) throw Corrupt("a central directory entry has no signature");
            var flags = BinaryPrimitives.ReadUInt16LittleEndian(record[8..]);
            var method = BinaryPrimitives.ReadUInt16LittleEndian(record[10..]);
            long compressed = BinaryPrimitives.ReadUInt32LittleEndian(record[20..]);
            long length = BinaryPrimitives.ReadUInt32LittleEndian(record[24..]);
            var nameLength = BinaryPrimitives.ReadUInt16LittleEndian(record[28..]);
            var extraLength = BinaryPrimitives.ReadUInt16LittleEndian(record[30..]);
            var commentLength = BinaryPrimitives.ReadUInt16LittleEndian(record[32..]);
            long localHeader = BinaryPrimitives.ReadUInt32LittleEndian(record[42..]);
            var next = position + DirectoryRecordLength + nameLength + extraLength + commentLength;
            if (next > end) throw Corrupt("a central directory entry runs past the directory");

            var variable = new byte[nameLength + extraLength];
            zip.ReadExactly(variable);
            var name = Encoding.UTF8.GetString(variable, 0, nameLength);
            ReadZip64Sizes(variable.AsSpan(nameLength), ref length, ref compressed, ref localHeader);
            position = next;
            yield return new ZipEntry(name, flags, method, compressed, length, localHeader);
        }

        // More records than the end record declares: a lie that would hide entries (ZipArchive refuses it too).
        var signature = new byte[4];
        if (position + 4 <= end)
        {
            zip.Position = position;
            zip.ReadExactly(signature);
            if (BinaryPrimitives.ReadUInt32LittleEndian(signature) == DirectoryRecordSignature)
            {
                throw Corrupt($"its central directory holds more entries than the {count:N0} its end record declares");
            }
        }
    }

    /// <summary>
    /// The entry's content, decompressed, read from its place in <paramref name="zip"/>; <paramref name="compressedRead"/>
    /// is told each count of compressed bytes read (for the ratio limit). Encrypted entries and compression methods
    /// other than stored and deflate fail the job (<see cref="PermanentJobException"/>).
    /// </summary>
    public static Stream Open(Stream zip, ZipEntry entry, Action<int> compressedRead)
    {
        if ((entry.Flags & 1) != 0) throw new PermanentJobException($"The zip entry '{Shown(entry.FullName)}' is encrypted, which is not supported.");
        if (entry.Method is not (0 or 8))
        {
            throw new PermanentJobException(
                $"The zip entry '{Shown(entry.FullName)}' uses compression method {entry.Method}; only stored (0) and deflate (8) are supported.");
        }
        Span<byte> header = stackalloc byte[LocalHeaderLength];
        if (entry.LocalHeaderOffset + LocalHeaderLength > zip.Length) throw Corrupt("an entry's header lies outside the file");
        zip.Position = entry.LocalHeaderOffset;
        zip.ReadExactly(header);
        if (BinaryPrimitives.ReadUInt32LittleEndian(header) != LocalHeaderSignature) throw Corrupt("an entry's header has no signature");
        var dataStart = entry.LocalHeaderOffset + LocalHeaderLength
            + BinaryPrimitives.ReadUInt16LittleEndian(header[26..]) + BinaryPrimitives.ReadUInt16LittleEndian(header[28..]);
        if (dataStart + entry.CompressedLength > zip.Length) throw Corrupt("an entry's data runs past the end of the file");
        var data = new Slice(zip, dataStart, entry.CompressedLength, compressedRead);
        return entry.Method == 0 ? data : new DeflateStream(data, CompressionMode.Decompress);
    }

    /// <summary>An entry name as it may be shown: at most 255 characters (outside text: make it storable before storing it).</summary>
    public static string Shown(string name) => name.Length <= 255 ? name : name[..255] + "…";

    private static PermanentJobException TooMany(string archiveName, int maxEntries, string setting) =>
        new($"The zip '{archiveName}' holds more than {maxEntries:N0} entries, the most allowed ({setting}); nothing was kept.");

    private static InvalidDataException Corrupt(string what) => new($"The zip is corrupt: {what}.");

    /// <summary>Finds the end record (the last one, before a comment of up to 64 KB), and its zip64 form when there is one.</summary>
    private static (long Count, long Offset, long Length) FindDirectory(Stream zip)
    {
        var tailLength = (int)Math.Min(zip.Length, EndLength + ushort.MaxValue);
        var tail = new byte[tailLength];
        var tailStart = zip.Length - tailLength;
        zip.Position = tailStart;
        zip.ReadExactly(tail);
        var at = -1;
        for (var i = tailLength - EndLength; i >= 0; i--)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(i)) == EndSignature) { at = i; break; }
        }
        if (at < 0) throw Corrupt("it has no end of central directory record");
        var end = tail.AsSpan(at);
        long count = BinaryPrimitives.ReadUInt16LittleEndian(end[10..]);
        long length = BinaryPrimitives.ReadUInt32LittleEndian(end[12..]);
        long offset = BinaryPrimitives.ReadUInt32LittleEndian(end[16..]);
        var endPosition = tailStart + at;

        // A zip64 locator just before the end record points to the zip64 end record, which holds the real numbers.
        if (endPosition >= 20)
        {
            Span<byte> locator = stackalloc byte[20];
            zip.Position = endPosition - 20;
            zip.ReadExactly(locator);
            if (BinaryPrimitives.ReadUInt32LittleEndian(locator) == Zip64LocatorSignature)
            {
                var zip64End = BinaryPrimitives.ReadInt64LittleEndian(locator[8..]);
                if (zip64End < 0 || zip64End + 56 > endPosition) throw Corrupt("its zip64 end record lies outside the file");
                Span<byte> record = stackalloc byte[56];
                zip.Position = zip64End;
                zip.ReadExactly(record);
                if (BinaryPrimitives.ReadUInt32LittleEndian(record) != Zip64EndSignature) throw Corrupt("its zip64 end record has no signature");
                count = BinaryPrimitives.ReadInt64LittleEndian(record[32..]);
                length = BinaryPrimitives.ReadInt64LittleEndian(record[40..]);
                offset = BinaryPrimitives.ReadInt64LittleEndian(record[48..]);
                endPosition = zip64End;
            }
        }
        if (count < 0 || offset < 0 || length < 0 || offset + length > endPosition) throw Corrupt("its central directory lies outside the file");
        return (count, offset, length);
    }

    /// <summary>The zip64 extra field (0x0001) holds, in this order, each of these that the record left at 0xFFFFFFFF.</summary>
    private static void ReadZip64Sizes(ReadOnlySpan<byte> extra, ref long length, ref long compressed, ref long localHeader)
    {
        while (extra.Length >= 4)
        {
            var id = BinaryPrimitives.ReadUInt16LittleEndian(extra);
            var size = BinaryPrimitives.ReadUInt16LittleEndian(extra[2..]);
            if (4 + size > extra.Length) throw Corrupt("an extra field runs past its entry");
            var field = extra.Slice(4, size);
            if (id == 1)
            {
                if (length == uint.MaxValue) length = Take(ref field);
                if (compressed == uint.MaxValue) compressed = Take(ref field);
                if (localHeader == uint.MaxValue) localHeader = Take(ref field);
                if (length < 0 || compressed < 0 || localHeader < 0) throw Corrupt("an entry's zip64 sizes are out of range");
                return;
            }
            extra = extra[(4 + size)..];
        }
    }

    private static long Take(ref ReadOnlySpan<byte> field)
    {
        if (field.Length < 8) throw Corrupt("an entry's zip64 field is too short");
        var value = BinaryPrimitives.ReadInt64LittleEndian(field);
        field = field[8..];
        return value;
    }

    /// <summary>A window of the zip's stream (one entry's compressed bytes), read from its own position; counts what is read.</summary>
    private sealed class Slice(Stream zip, long start, long length, Action<int> counted) : Stream
    {
        private long _read;

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var wanted = (int)Math.Min(buffer.Length, length - _read);
            if (wanted <= 0) return 0;
            zip.Position = start + _read;
            var n = zip.Read(buffer[..wanted]);
            if (n == 0) throw Corrupt("an entry's data ends early");
            _read += n;
            counted(n);
            return n;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => _read; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
