using Microsoft.EntityFrameworkCore;
using Monolith.Domain.Datasets;
using Monolith.Domain.Persistence;
using Monolith.Worker.Storage;

namespace Monolith.Worker.Jobs.Datasets;

/// <summary>
/// Removes a dataset: its records and its row in one transaction, then its stored file. The one way a dataset goes,
/// for <c>DELETE /v1/datasets/{id}</c> and for retention (<c>Retention:DatasetsDays</c>).
/// </summary>
public sealed class DatasetRemoval(MonolithDbContext db, IFileStore store)
{
    /// <summary>
    /// Removes the dataset only if it is still as the caller saw it (<paramref name="seenState"/>, <paramref name="seenJob"/>):
    /// a parse or reprocess that started meanwhile wins, and the answer is false. A parse that raced in after the
    /// removal finds the row gone and keeps nothing.
    /// </summary>
    /// <remarks>
    /// A dataset of millions of records takes longer to delete than the driver's default command timeout (30 s):
    /// the statements here have none, and the caller's token (the request, the housekeeping job) bounds them.
    /// </remarks>
    public async Task<bool> RemoveAsync(Dataset dataset, DatasetState seenState, Guid? seenJob, CancellationToken ct)
    {
        var timeout = db.Database.GetCommandTimeout();
        db.Database.SetCommandTimeout(TimeSpan.Zero);
        try
        {
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            var deleted = await db.Datasets.Where(d => d.Id == dataset.Id && d.State == seenState && d.JobId == seenJob).ExecuteDeleteAsync(ct);
            if (deleted == 0) return false;
            await db.NameRecords.Where(r => r.DatasetId == dataset.Id).ExecuteDeleteAsync(ct);
            await tx.CommitAsync(ct);
        }
        finally
        {
            db.Database.SetCommandTimeout(timeout);
        }
        await store.DeleteQuietlyAsync(dataset.StorageKey);
        return true;
    }
}
