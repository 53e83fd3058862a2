using Monolith.Domain.Transfers;
using Monolith.Domain.Uploads;
using Monolith.Worker.Engine;
using Monolith.Worker.Storage;

namespace Monolith.Worker.Uploads;

/// <summary>
/// A feature's row made from a ready upload of the tenant (datasets and imports take a JSON body naming one): the upload
/// is looked up and judged usable, then its file copied (inside the store when it can) to the feature's own key, so
/// deleting either never touches the other. Errors are keyed <c>uploadId</c>, as the endpoints answer them.
/// </summary>
public sealed class UploadCopies(TransferQueries uploads, IFileStore store)
{
    /// <summary>The tenant's upload when it is ready to be copied; else null, with the reason added on <c>uploadId</c>.</summary>
    public async Task<Upload?> FindReadyAsync(Guid tenantId, Guid uploadId, IDictionary<string, string[]> errors, CancellationToken ct)
    {
        var upload = await uploads.GetUploadAsync(tenantId, uploadId, ct);
        if (upload is null) errors["uploadId"] = [$"No upload {uploadId} is visible to this API key."];
        else if (upload.UnusableReason is { } unusable) errors["uploadId"] = [unusable];
        else return upload;
        return null;
    }

    /// <summary>
    /// Copies the upload's file to <paramref name="key"/>, then <paramref name="create"/>s the row that owns it; the copy
    /// is deleted again unless the row was created (Done). Invalid on <c>uploadId</c> when the upload was deleted meanwhile.
    /// </summary>
    public async Task<RowCommandOutcome<TRow>> CopyForAsync<TRow>(
        Upload upload, string key, Func<Task<RowCommandOutcome<TRow>>> create, CancellationToken ct) where TRow : class
    {
        var created = false;
        try
        {
            try
            {
                await store.CopyWithinAsync(upload.StorageKey, key, ct);
            }
            catch (StoredFileNotFoundException)
            {
                return RowCommandOutcome<TRow>.Invalid(new Dictionary<string, string[]> { ["uploadId"] = [$"Upload {upload.Id} was deleted meanwhile."] });
            }
            var outcome = await create();
            created = outcome.Status == CommandStatus.Done;
            return outcome;
        }
        finally
        {
            if (!created) await store.DeleteQuietlyAsync(key);
        }
    }
}
