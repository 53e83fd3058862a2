using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Monolith.Domain.Jobs;
using Monolith.Domain.Persistence;
using Monolith.Domain.Syncs;
using Monolith.Worker.Engine;

namespace Monolith.Worker.Jobs.Syncs;

/// <summary>
/// Writes a sync's end on its row when its <c>sync_records</c> job ends failed (a permanent failure, the last attempt's
/// error, a lost node on the last attempt: the job's error, as the engine wrote it) or cancelled, in the transaction
/// that ends the job (<see cref="IJobEndedHandler"/>). What was committed page by page stays. A completed sync is left
/// as it is.
/// </summary>
public sealed class SyncJobEnded(JobTypeRegistry types) : IJobEndedHandler
{
    private readonly string _kind = types.Of<SyncRecordsPayload>().Kind;

    public bool Concerns(Job job, JobState state) => state is JobState.Failed or JobState.Cancelled && job.Type == _kind;

    public async Task JobsEndedAsync(IReadOnlyList<TerminalJob> ended, MonolithDbContext db, JobClient jobs, CancellationToken ct)
    {
        var now = DateTimeOffset.UtcNow;
        foreach (var (job, state, error, _) in ended)
        {
            var syncId = JsonSerializer.Deserialize<SyncRecordsPayload>(job.Payload, JobTypeDefinition.PayloadJson)!.SyncId;
            var (rowState, message) = state == JobState.Cancelled
                ? (SyncState.Cancelled, error ?? "Cancelled.")
                : (SyncState.Failed, error ?? "The sync's job failed.");
            var stored = Sync.StorableError(message);
            await db.Syncs
                .Where(s => s.Id == syncId && s.TenantId == job.TenantId && s.JobId == job.Id && s.State != SyncState.Completed)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(x => x.State, rowState)
                    .SetProperty(x => x.Error, stored)
                    .SetProperty(x => x.FinishedAt, now), ct);
        }
    }
}
