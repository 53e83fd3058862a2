using Microsoft.EntityFrameworkCore;
using Monolith.Domain.Persistence;
using Monolith.Domain.Secrets;
using Monolith.Domain.Syncs;
using Monolith.Worker.Engine;
using Monolith.Worker.Outbound;

namespace Monolith.Worker.Jobs.Syncs;

/// <summary>
/// What clients do to syncs (the API's <c>/v1/syncs</c> and the dashboard's buttons): create, cancel, retry. Each writes
/// the sync's row and its <c>sync_records</c> job in one transaction, and answers with both as they are now
/// (docs/job-backed-features.md). A tenant scope is a tenant's id, or null for the admin (who sees every tenant's).
/// </summary>
public sealed class SyncCommands(MonolithDbContext db, SyncQueries syncs, JobClient client, OutboundAddressPolicy addresses, SecretProtector secrets)
{
    /// <summary>
    /// Checks that the source's URL and the callback URL may be called, then stores the row (header values encrypted)
    /// and its job together. Invalid, with the request's field names, when a check fails; nothing is stored then.
    /// </summary>
    public async Task<RowCommandOutcome<Sync>> CreateAsync(Guid tenantId, NewSync request, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (await addresses.CheckAsync(new Uri(request.Source.Url), ct) is { } refused) errors["source.url"] = [refused];
        if (request.CallbackUrl is { } callbackUrl && await CallbackUrls.CheckAsync(callbackUrl, addresses, ct) is { } callbackRefused)
        {
            errors["callbackUrl"] = [callbackRefused];
        }
        if (errors.Count > 0) return RowCommandOutcome<Sync>.Invalid(errors);

        var source = request.Source with
        {
            Headers = request.Source.Headers is null ? null : secrets.ProtectValues(request.Source.Headers, SyncSource.HeaderPurpose),
        };
        var sync = new Sync
        {
            Id = Guid.CreateVersion7(),
            TenantId = tenantId,
            Snapshot = request.Snapshot,
            Source = source.ToJson(),
            State = SyncState.Queued,
            CreatedAt = DateTimeOffset.UtcNow,
        };
        var job = await client.SubmitWithRowAsync(tenantId, new SyncRecordsPayload(sync.Id), new JobSettings(CallbackUrl: request.CallbackUrl),
            sync, ct);
        return RowCommandOutcome<Sync>.Done(sync, job);
    }

    /// <summary>Cancels the sync's job: it stops between pages, and what was committed stays. Conflict once it has finished.</summary>
    public async Task<RowCommandOutcome<Sync>> CancelAsync(Guid? tenantScope, Guid id, CancellationToken ct)
    {
        if ((await syncs.GetAsync(tenantScope, id, ct))?.JobId is not { } jobId) return RowCommandOutcome<Sync>.NotFound;
        return await AnswerAsync(tenantScope, id, await client.CancelAsync(tenantScope, jobId, ct), ct);
    }

    /// <summary>
    /// Runs a failed or cancelled sync again, from its checkpoint: the job's new run and the row back to queued (its
    /// error and end cleared) in one transaction. Conflict when it is completed (a new sync copies again), running or
    /// waiting to run.
    /// </summary>
    public async Task<RowCommandOutcome<Sync>> RetryAsync(Guid? tenantScope, Guid id, CancellationToken ct)
    {
        var sync = await syncs.GetAsync(tenantScope, id, ct);
        if (sync?.JobId is not { } jobId) return RowCommandOutcome<Sync>.NotFound;
        if (sync.State == SyncState.Completed) return RowCommandOutcome<Sync>.Conflict(sync, null);
        CommandOutcome outcome;
        await using (var tx = await db.Database.BeginTransactionAsync(ct))
        {
            outcome = await client.RetryAsync(tenantScope, jobId, ct);
            if (outcome.Status == CommandStatus.Done)
            {
                await db.Syncs.Where(s => s.Id == id && s.State != SyncState.Completed).ExecuteUpdateAsync(s => s
                    .SetProperty(x => x.State, SyncState.Queued)
                    .SetProperty(x => x.Error, (string?)null)
                    .SetProperty(x => x.FinishedAt, (DateTimeOffset?)null), ct);
                await tx.CommitAsync(ct);
            }
        }
        return await AnswerAsync(tenantScope, id, outcome, ct);
    }

    /// <summary>What a cancel or retry of sync <paramref name="id"/> answers: its row as it is now, and the job as the command left it.</summary>
    private async Task<RowCommandOutcome<Sync>> AnswerAsync(Guid? tenantScope, Guid id, CommandOutcome outcome, CancellationToken ct)
    {
        if (outcome.Status == CommandStatus.NotFound || await syncs.GetAsync(tenantScope, id, ct) is not { } sync) return RowCommandOutcome<Sync>.NotFound;
        return outcome.Status == CommandStatus.Conflict ? RowCommandOutcome<Sync>.Conflict(sync, outcome.Job) : RowCommandOutcome<Sync>.Done(sync, outcome.Job);
    }
}
