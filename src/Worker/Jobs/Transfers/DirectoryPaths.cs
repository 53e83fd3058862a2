using System.Globalization;
using System.Text;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Monolith.Domain.Text;

namespace Monolith.Worker.Jobs.Transfers;

/// <summary>
/// Where a directory destination's relative path lands, and never anywhere else. The root
/// (<see cref="TransferOptions.DirectoryRoot"/>) is shared by every tenant of the service, so each tenant writes only
/// inside its own part of it, <c>&lt;root&gt;/&lt;tenant id&gt;/</c> (a real directory, not a link), whatever path it
/// gives. The path must be relative and slash-separated, without empty segments or segments beginning with <c>.</c>
/// (<c>.</c>, <c>..</c> and hidden names such as <c>.dataprotection-keys</c>), without control, format or invisible
/// characters (NUL, U+202E RIGHT-TO-LEFT OVERRIDE, a BOM, zero-width and bidi marks, unassigned code points; see
/// <see cref="FindInvisible"/>), each segment at most 255 bytes in UTF-8 and the file name at most 200 (its temporary
/// name adds 39). Every existing component is resolved through its symbolic links (as realpath(3) does) and must stay
/// inside the tenant's part; an existing component before the last must be a directory, not a file. The API checks a
/// path with it (400 naming <c>destination.path</c>); the job resolves it again before writing and once more before
/// renaming the file into place.
/// </summary>
public sealed class DirectoryPaths(IOptions<TransferOptions> options, IHostEnvironment? environment = null)
{
    private const int MaxLinks = 40, MaxSegmentBytes = 255, MaxFileNameBytes = 200;

    /// <summary>The configured root as an absolute path, or null when directory destinations are not configured.</summary>
    public string? Root => RootOf(options.Value, environment);

    /// <summary><paramref name="transfers"/>' root as an absolute path (relative roots are taken from the content root), or null.</summary>
    public static string? RootOf(TransferOptions transfers, IHostEnvironment? environment) => transfers.DirectoryRoot is { Length: > 0 } root
        ? Path.GetFullPath(Path.IsPathRooted(root) ? root : Path.Combine(environment?.ContentRootPath ?? AppContext.BaseDirectory, root))
        : null;

    /// <summary>
    /// The absolute real path <paramref name="relative"/> names in <paramref name="tenantId"/>'s part of the root;
    /// <see cref="PathRefusedException"/> if none.
    /// </summary>
    public string Resolve(Guid tenantId, string? relative)
    {
        if (Root is not { } root) throw new PathRefusedException("Directory destinations are not configured on this service (Transfers:DirectoryRoot).");
        var segments = CheckShape(relative);

        var part = Path.Join(RealPath(root), tenantId.ToString());
        if (RealPath(part) != part) throw new PathRefusedException("This tenant's part of the destination root is a symbolic link; nothing is written through it.");
        if (File.Exists(part)) throw new PathRefusedException("This tenant's part of the destination root is a file, not a directory.");
        var ancestor = part;
        for (var i = 0; i < segments.Length - 1; i++)
        {
            ancestor = Path.Join(ancestor, segments[i]);
            if (File.Exists(ancestor))
            {
                throw new PathRefusedException($"'{string.Join('/', segments[..(i + 1)])}' is a file, so nothing can be written under it.");
            }
            if (!Directory.Exists(ancestor)) break; // nothing further down exists either
        }

        var real = RealPath(Path.Join(part, relative));
        if (!real.StartsWith(part + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new PathRefusedException("The path leads outside this tenant's part of the destination root (through a symbolic link).");
        }
        if (Directory.Exists(real)) throw new PathRefusedException("The path names a directory; it must name a file.");
        return real;
    }

    /// <summary>
    /// True when the directory root and the file store's root (<c>Storage:Root</c>: uploads, dataset files, the
    /// dashboard's key ring) overlap: one is the other or lies inside it, symbolic links followed. The service refuses
    /// to start then (<see cref="TransferExtensions.AddTransfers"/>).
    /// </summary>
    public static bool Overlap(string? directoryRoot, string storageRoot)
    {
        if (directoryRoot is null) return false;
        var directory = RealPath(directoryRoot);
        var storage = RealPath(storageRoot);
        return directory == storage
               || directory.StartsWith(storage + Path.DirectorySeparatorChar, StringComparison.Ordinal)
               || storage.StartsWith(directory + Path.DirectorySeparatorChar, StringComparison.Ordinal);
    }

    /// <summary>The path's segments, after checking its shape and characters (the class summary lists the rules).</summary>
    private static string[] CheckShape(string? relative)
    {
        if (string.IsNullOrWhiteSpace(relative)) throw new PathRefusedException("A path under the destination root is required.");
        if (relative.Length > 1024) throw new PathRefusedException("The path is longer than 1,024 characters.");
        if (StorableText.FindUnstorable(relative) is var unstorable and >= 0)
        {
            throw new PathRefusedException($"The path contains a NUL character or an unpaired UTF-16 surrogate (at position {unstorable}), which a file name cannot hold.");
        }
        if (FindInvisible(relative) is { } invisible)
        {
            throw new PathRefusedException(
                $"The path contains U+{invisible.Rune.Value:X4}, {invisible.Kind}, at position {invisible.Index}: file names may not hold control, format or invisible characters.");
        }
        if (relative.Contains('\\')) throw new PathRefusedException("The path may not contain backslash characters; separate folders with '/'.");
        if (relative.StartsWith('/') || Path.IsPathRooted(relative)) throw new PathRefusedException("The path must be relative to the destination root, not absolute.");
        var segments = relative.Split('/');
        if (segments.Any(s => s.Length == 0)) throw new PathRefusedException("The path may not contain empty segments or end with '/'.");
        if (segments.Any(s => s.StartsWith('.')))
        {
            throw new PathRefusedException("The path may not contain '.' or '..' segments, or any other name beginning with '.' (hidden names).");
        }
        if (segments.Any(s => Encoding.UTF8.GetByteCount(s) > MaxSegmentBytes))
        {
            throw new PathRefusedException($"A path segment is longer than {MaxSegmentBytes} bytes (in UTF-8).");
        }
        if (Encoding.UTF8.GetByteCount(segments[^1]) > MaxFileNameBytes)
        {
            throw new PathRefusedException(
                $"The file name is longer than {MaxFileNameBytes} bytes (in UTF-8): room is kept for the temporary name it is written under.");
        }
        return segments;
    }

    /// <summary>
    /// The first character of <paramref name="text"/> that a file name may not hold because it cannot be seen or
    /// changes how the rest is shown: control characters (C0, DEL, C1), format characters (bidi overrides and
    /// isolates such as U+202E, zero-width spaces and joiners, the BOM U+FEFF, the soft hyphen), line and paragraph
    /// separators, unassigned code points and noncharacters, private-use code points, and blank letters (the Hangul fillers, the braille blank,
    /// the combining grapheme joiner). Null when there is none. <paramref name="text"/> must hold no lone surrogate.
    /// </summary>
    public static (Rune Rune, string Kind, int Index)? FindInvisible(string text)
    {
        var index = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            var kind = Rune.GetUnicodeCategory(rune) switch
            {
                UnicodeCategory.Control => "a control character",
                UnicodeCategory.Format => "an invisible format character",
                UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator => "a line or paragraph separator",
                UnicodeCategory.OtherNotAssigned => "an unassigned code point",
                UnicodeCategory.PrivateUse => "a private-use code point",
                _ when rune.Value is 0x034F or 0x115F or 0x1160 or 0x2800 or 0x3164 or 0xFFA0 => "a blank character",
                _ => null,
            };
            if (kind is not null) return (rune, kind, index);
            index += rune.Utf16SequenceLength;
        }
        return null;
    }

    /// <summary>
    /// <paramref name="path"/> (absolute) with every symbolic link among its existing components replaced by what it
    /// points to, recursively; components that do not exist yet are kept as they are.
    /// </summary>
    private static string RealPath(string path, int depth = 0)
    {
        if (depth > MaxLinks) throw new PathRefusedException("The path goes through too many symbolic links.");
        var current = "/";
        foreach (var part in Path.GetFullPath(path).Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            var next = Path.Join(current, part);
            var target = new FileInfo(next).LinkTarget;
            if (target is null)
            {
                current = next;
                continue;
            }
            current = RealPath(Path.GetFullPath(Path.IsPathRooted(target) ? target : Path.Join(current, target)), depth + 1);
        }
        return current;
    }
}

/// <summary>A directory destination's path that may not be written (the message says why).</summary>
public sealed class PathRefusedException(string message) : Exception(message);
