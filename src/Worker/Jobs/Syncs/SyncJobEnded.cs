using Microsoft.EntityFrameworkCore;
using Monolith.Domain.Jobs;
using Monolith.Domain.Persistence;
using Monolith.Domain.Syncs;
using Monolith.Worker.Engine;

namespace Monolith.Worker.Jobs.Syncs;

/// <summary>
/// Writes a sync's end on its row when its <c>sync_records</c> job ends failed or cancelled (the job's error, as the
/// engine wrote it), in the transaction that ends the job (<see cref="JobRowEnded"/>). What was committed page by page
/// stays. A completed sync is left as it is.
/// </summary>
public sealed class SyncJobEnded(JobTypeRegistry types) : JobRowEnded(types.Of<SyncRecordsPayload>())
{
    protected override Task MarkAsync(MonolithDbContext db, TerminalJob ended, CancellationToken ct)
    {
        var (job, state, error, _) = ended;
        var syncId = PayloadOf<SyncRecordsPayload>(job).SyncId;
        var (rowState, message) = state == JobState.Cancelled
            ? (SyncState.Cancelled, error ?? "Cancelled.")
            : (SyncState.Failed, error ?? "The sync's job failed.");
        var stored = Sync.StorableError(message);
        var now = DateTimeOffset.UtcNow;
        return db.Syncs
            .Where(s => s.Id == syncId && s.TenantId == job.TenantId && s.JobId == job.Id && s.State != SyncState.Completed)
            .ExecuteUpdateAsync(s => s
                .SetProperty(x => x.State, rowState)
                .SetProperty(x => x.Error, stored)
                .SetProperty(x => x.FinishedAt, now), ct);
    }
}
