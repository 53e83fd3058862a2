namespace Monolith.Worker.Storage;

/// <summary>
/// Files on local disk under one root (<c>Storage:Root</c>, default <c>.local/files</c>; a relative root is taken
/// from the content root). Writes go to a temporary name beside the target and are renamed into place when
/// complete, so a reader never sees half a file. Every node that runs jobs must see the same root (one machine,
/// or a shared volume); otherwise use the S3 store (<see cref="S3FileStore"/>).
/// </summary>
public sealed class LocalFileStore : IFileStore
{
    public const string DefaultRoot = ".local/files";

    public LocalFileStore(string root) => Root = Path.GetFullPath(root);

    public string Root { get; }

    public async Task<long> WriteAsync(string key, Stream content, CancellationToken ct)
    {
        var path = PathOf(key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = $"{path}.{Guid.NewGuid():N}.part";
        try
        {
            long written;
            await using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81_920, useAsync: true))
            {
                await content.CopyToAsync(file, 81_920, ct);
                await file.FlushAsync(ct);
                written = file.Length;
            }
            File.Move(temporary, path, overwrite: true);
            return written;
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    public Task<Stream> OpenReadAsync(string key, CancellationToken ct, bool callerChecksContent = false)
    {
        var path = PathOf(key);
        try
        {
            return Task.FromResult<Stream>(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 81_920, useAsync: true));
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new StoredFileNotFoundException(key);
        }
    }

    public Task DeleteAsync(string key, CancellationToken ct)
    {
        try
        {
            File.Delete(PathOf(key));
        }
        catch (DirectoryNotFoundException)
        {
            // Nor its directory: missing, which is no error.
        }
        return Task.CompletedTask;
    }

    /// <summary>A key's path under the root; a key that would leave the root is refused.</summary>
    private string PathOf(string key)
    {
        var path = Path.GetFullPath(Path.Combine(Root, StorageKey.Checked(key)));
        if (!path.StartsWith(Root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new ArgumentException($"Not a valid storage key: '{key}'.", nameof(key));
        }
        return path;
    }
}
