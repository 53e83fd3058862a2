namespace Monolith.Worker.Storage;

public static class FileStoreCopy
{
    /// <summary>
    /// Copies a stored file to another key, streamed through this node (never whole in memory); the S3 store checks the
    /// bytes read against the object's ETag as it does for every read. S3's server-side CopyObject is not used: s3rver,
    /// the tests' server, cannot parse the copy source the SDK sends (it decodes it with decodeURI, keeping %2F).
    /// <see cref="StoredFileNotFoundException"/> when there is none.
    /// </summary>
    public static async Task CopyWithinAsync(this IFileStore store, string from, string to, CancellationToken ct)
    {
        await using var source = await store.OpenReadAsync(from, ct);
        await store.WriteAsync(to, source, ct);
    }
}
