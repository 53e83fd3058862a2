namespace Monolith.Worker.Storage;

public static class QuietDelete
{
    /// <summary>
    /// Removes a stored file, best effort: an orphaned file is harmless (no row points at it) and is left for an
    /// operator. Not cancelled with the request: a clean-up runs to its end.
    /// </summary>
    public static async Task DeleteQuietlyAsync(this IFileStore store, string key)
    {
        try
        {
            await store.DeleteAsync(key, CancellationToken.None);
        }
        catch (IOException)
        {
            // left for an operator; nothing refers to it
        }
    }
}
