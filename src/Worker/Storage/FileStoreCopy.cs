namespace Monolith.Worker.Storage;

public static class FileStoreCopy
{
    /// <summary>
    /// Copies a stored file to another key: inside the store when it can (S3's CopyObject: no byte passes through this
    /// node), else streamed from the file to the new key. <see cref="StoredFileNotFoundException"/> when there is none.
    /// </summary>
    public static async Task CopyWithinAsync(this IFileStore store, string from, string to, CancellationToken ct)
    {
        if (store is IDirectUploadStore direct)
        {
            await direct.CopyAsync(from, to, ct);
            return;
        }
        await using var source = await store.OpenReadAsync(from, ct);
        await store.WriteAsync(to, source, ct);
    }
}
