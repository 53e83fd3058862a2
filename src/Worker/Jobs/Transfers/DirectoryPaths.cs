using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Monolith.Worker.Jobs.Transfers;

/// <summary>
/// Where a directory destination's relative path lands under <see cref="TransferOptions.DirectoryRoot"/>, and
/// never outside it: the path must be relative, slash-separated, without empty, <c>.</c> or <c>..</c> segments,
/// and every component that exists is resolved through its symbolic links (as realpath(3) does) and must stay
/// under the root's own real path. The API checks a path with it (400 naming <c>destination.path</c>) and the
/// job resolves it again before writing.
/// </summary>
public sealed class DirectoryPaths(IOptions<TransferOptions> options, IHostEnvironment? environment = null)
{
    private const int MaxLinks = 40;

    /// <summary>The configured root as an absolute path, or null when directory destinations are not configured.</summary>
    public string? Root => options.Value.DirectoryRoot is { Length: > 0 } root
        ? Path.GetFullPath(Path.IsPathRooted(root) ? root : Path.Combine(environment?.ContentRootPath ?? AppContext.BaseDirectory, root))
        : null;

    /// <summary>The absolute real path <paramref name="relative"/> names under the root; <see cref="PathRefusedException"/> if none.</summary>
    public string Resolve(string? relative)
    {
        if (Root is not { } root) throw new PathRefusedException("Directory destinations are not configured on this service (Transfers:DirectoryRoot).");
        if (string.IsNullOrWhiteSpace(relative)) throw new PathRefusedException("A path under the destination root is required.");
        if (relative.Length > 1024) throw new PathRefusedException("The path is longer than 1,024 characters.");
        if (relative.Contains('\0') || relative.Contains('\\')) throw new PathRefusedException("The path may not contain NUL or backslash characters.");
        if (relative.StartsWith('/') || Path.IsPathRooted(relative)) throw new PathRefusedException("The path must be relative to the destination root, not absolute.");
        var segments = relative.Split('/');
        if (segments.Any(s => s is ".." or ".")) throw new PathRefusedException("The path may not contain '.' or '..' segments.");
        if (segments.Any(s => s.Length == 0)) throw new PathRefusedException("The path may not contain empty segments or end with '/'.");
        if (segments.Any(s => s.Length > 255)) throw new PathRefusedException("A path segment is longer than 255 characters.");

        var realRoot = RealPath(root);
        var real = RealPath(Path.Join(realRoot, relative));
        if (!real.StartsWith(realRoot + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new PathRefusedException("The path leads outside the destination root (through a symbolic link).");
        }
        if (Directory.Exists(real)) throw new PathRefusedException("The path names a directory; it must name a file.");
        return real;
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
