using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Monolith.Domain.Jobs;
using Monolith.Domain.Persistence;
using Npgsql;

namespace Monolith.Worker.Engine;

/// <summary>
/// What clients do to jobs: submit, cancel, retry. Each change to a job and the dispatch ticket it needs are
/// written in one transaction, so an accepted job always has a way to run and a rolled-back one leaves nothing.
/// </summary>
public sealed class JobClient(
    MonolithDbContext db, JobStore store, DispatchTickets tickets, SubmitCoalescer coalescer, IEnumerable<IJobEndedHandler> endedHandlers,
    JobTypeRegistry types, JobSecrets secrets)
{
    /// <summary>The NOTIFY channel that tells every node a running job was asked to stop.</summary>
    public const string CancelChannel = "monolith_cancel";

    /// <summary>
    /// Stores one job and its ticket. Without an idempotency key the submission is group-committed with others
    /// arriving at the same moment (<see cref="SubmitCoalescer"/>); it is answered only once its transaction committed.
    /// </summary>
    public async Task<SubmitOutcome> SubmitAsync(NewJob request, CancellationToken ct)
    {
        // The submitter's trace, read here while it is current (the group commit runs elsewhere).
        if (request.TraceParent is null && JobTracing.CurrentTraceParent() is { } traceParent) request = request with { TraceParent = traceParent };
        if (request.IdempotencyKey is null)
        {
            return await coalescer.SubmitAsync(request, ct);
        }
        if (await FindByKeyAsync(request) is { } existing)
        {
            return Replay(existing, request);
        }
        try
        {
            return (await SubmitBatchWithOutcomesAsync([request], ct))[0];
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            // Another request with the same Idempotency-Key won the race: answer as it was answered.
            return Replay(await FindByKeyAsync(request) ?? throw new InvalidOperationException("Idempotent job vanished.", ex), request);
        }
    }

    /// <summary>
    /// How a job-backed feature (a dataset's parse, a transfer, a sync) starts its job: the job of the type that takes
    /// <paramref name="payload"/>, built by <see cref="JobTypeDefinition.NewJob"/>, and the feature's new row (its
    /// <see cref="IJobRow.JobId"/> set to the job's) inserted in one transaction: both are stored or neither. Joins the
    /// caller's transaction when there is one (and then leaves commit and rollback to the caller). A refusal of the job's
    /// data is thrown as an <see cref="UnstorableJobException"/> (a 422, not a 500). docs/job-backed-features.md is the recipe.
    /// </summary>
    public Task<Job> SubmitWithRowAsync<TPayload>(Guid tenantId, TPayload payload, JobSettings settings, IJobRow newRow, CancellationToken ct) =>
        SubmitWithRowAsync(types.Of<TPayload>().NewJob(
            tenantId, System.Text.Json.JsonSerializer.SerializeToElement(payload, JobTypeDefinition.PayloadJson), secrets, settings, DateTimeOffset.UtcNow), newRow, ct);

    /// <summary>
    /// As <see cref="SubmitWithRowAsync{TPayload}(Guid, TPayload, JobSettings, IJobRow, CancellationToken)"/>, with the
    /// row written by <paramref name="writeRow"/> (given the stored job, to keep its id) instead of inserted: it returns
    /// false when the row is no longer as the caller saw it (a reprocess that lost a race), and nothing is stored then.
    /// </summary>
    public async Task<Job?> SubmitWithRowAsync<TPayload>(
        Guid tenantId, TPayload payload, JobSettings settings, Func<Job, CancellationToken, Task<bool>> writeRow, CancellationToken ct)
    {
        var request = types.Of<TPayload>().NewJob(
            tenantId, System.Text.Json.JsonSerializer.SerializeToElement(payload, JobTypeDefinition.PayloadJson), secrets, settings, DateTimeOffset.UtcNow);
        return await SubmitWithRowAsync(request, writeRow, ct);
    }

    /// <summary>
    /// As <see cref="SubmitWithRowAsync{TPayload}(Guid, TPayload, JobSettings, IJobRow, CancellationToken)"/>, for a job
    /// of any type already built (<see cref="JobTypeDefinition.NewJobOfStoredPayload"/>): a
    /// schedule's run, whose job is the client's template.
    /// </summary>
    public async Task<Job> SubmitWithRowAsync(NewJob request, IJobRow newRow, CancellationToken ct) =>
        (await SubmitWithRowAsync(request, async (job, token) =>
        {
            newRow.JobId = job.Id;
            db.Add(newRow);
            await db.SaveChangesAsync(token);
            db.ChangeTracker.Clear();
            return true;
        }, ct))!;

    private async Task<Job?> SubmitWithRowAsync(NewJob request, Func<Job, CancellationToken, Task<bool>> writeRow, CancellationToken ct)
    {
        var outer = db.Database.CurrentTransaction;
        try
        {
            await using var own = outer is null ? await db.Database.BeginTransactionAsync(ct) : null;
            var job = (await StoreAsync([request], ct))[0].Job;
            if (!await writeRow(job, ct)) return null; // disposing the transaction uncommitted rolls it back
            if (own is not null) await own.CommitAsync(ct);
            return job;
        }
        catch (Exception ex) when (outer is null && UnstorableJobException.FromDataError(ex) is { } rejected)
        {
            throw rejected;
        }
    }

    /// <summary>
    /// Stores jobs and their tickets in one transaction: all of them or none. The result is in the order given.
    /// Jobs due at the same moment share tickets (<see cref="DispatchTickets.MaxJobsPerTicket"/>). Runs in the
    /// caller's transaction when there is one (an <see cref="IJobEndedHandler"/> stores its jobs with the outcome that causes them),
    /// and then leaves the commit to the caller. In its own transaction, a refusal of the jobs' data is thrown as an
    /// <see cref="UnstorableJobException"/> (a 422, not a 500).
    /// </summary>
    public async Task<IReadOnlyList<Job>> SubmitBatchAsync(IReadOnlyList<NewJob> requests, CancellationToken ct) =>
        [.. (await SubmitBatchWithOutcomesAsync(requests, ct)).Select(o => o.Job)];

    /// <summary>
    /// As <see cref="SubmitBatchAsync"/>, telling for each request whether its job was created or is the job that holds
    /// its unique key (<see cref="SubmitStatus.UniqueKeyHeld"/>: nothing new was stored for it).
    /// </summary>
    public async Task<IReadOnlyList<SubmitOutcome>> SubmitBatchWithOutcomesAsync(IReadOnlyList<NewJob> requests, CancellationToken ct)
    {
        if (db.Database.CurrentTransaction is not null) return await StoreAsync(requests, ct);
        try
        {
            return await StoreAsync(requests, ct);
        }
        catch (Exception ex) when (UnstorableJobException.FromDataError(ex) is { } rejected)
        {
            throw rejected;
        }
    }

    /// <summary>How often a submit looks again for the holder of a key that left its window between the insert and the read.</summary>
    private const int UniqueKeyRounds = 5;

    private async Task<IReadOnlyList<SubmitOutcome>> StoreAsync(IReadOnlyList<NewJob> requests, CancellationToken ct)
    {
        var now = DateTimeOffset.UtcNow;
        var currentTrace = JobTracing.CurrentTraceParent();
        var jobs = requests.Select(r => new Job
        {
            Id = Guid.CreateVersion7(now),
            TenantId = r.TenantId,
            Type = r.Type,
            Queue = r.Queue,
            Priority = r.Priority,
            State = r.RunAt > now ? JobState.Scheduled : JobState.Queued,
            Payload = r.PayloadJson,
            MaxAttempts = r.MaxAttempts,
            TimeoutSeconds = r.TimeoutSeconds,
            BackoffSeconds = r.BackoffSeconds,
            CreatedAt = now,
            ScheduledAt = r.RunAt > now ? r.RunAt : now,
            IdempotencyKey = r.IdempotencyKey,
            RequestHash = r.RequestHash,
            ResultTtlSeconds = r.ResultTtlSeconds,
            CallbackUrl = r.CallbackUrl,
            TraceParent = r.TraceParent ?? currentTrace,
            UniqueKey = r.UniqueKey,
            UniqueScope = r.UniqueKey is null ? null : r.UniqueScope ?? UniqueScope.UntilExecuted,
        }).ToList();

        var outer = db.Database.CurrentTransaction;
        await using var own = outer is null ? await db.Database.BeginTransactionAsync(ct) : null;
        var outcomes = new SubmitOutcome?[jobs.Count];
        var created = new List<Job>(jobs.Count);
        var pending = Enumerable.Range(0, jobs.Count).ToList();
        // A job whose unique key is held is not written (the index decides, race-free); it gets the holder instead. A
        // holder that left its window between the insert and the read (it started, or ended) is gone: insert again.
        for (var round = 0; pending.Count > 0; round++)
        {
            if (round == UniqueKeyRounds) throw new InvalidOperationException($"A unique key changed hands {UniqueKeyRounds} times during one submit.");
            var written = await store.InsertAsync([.. pending.Select(i => jobs[i])], ct);
            var held = pending.Where(i => !written.Contains(jobs[i].Id)).ToList();
            foreach (var i in pending.Except(held))
            {
                outcomes[i] = new SubmitOutcome(SubmitStatus.Created, jobs[i]);
                created.Add(jobs[i]);
            }
            if (held.Count == 0) break;
            var holders = (await store.FindKeyHoldersAsync([.. held.Select(i => (jobs[i].TenantId, jobs[i].UniqueKey!)).Distinct()], ct))
                .ToDictionary(h => (h.TenantId, h.UniqueKey!));
            pending = [];
            foreach (var i in held)
            {
                if (holders.TryGetValue((jobs[i].TenantId, jobs[i].UniqueKey!), out var holder)) outcomes[i] = new SubmitOutcome(SubmitStatus.UniqueKeyHeld, holder);
                else pending.Add(i);
            }
        }
        if (created.Count > 0) await tickets.ScheduleAsync((outer ?? own)!.GetDbTransaction(), created.Select(j => j.ScheduledAt), ct);
        if (own is not null) await own.CommitAsync(ct);
        foreach (var group in created.GroupBy(j => (j.Type, j.Queue))) EngineMetrics.Submitted.WithLabels(group.Key.Type, group.Key.Queue).Inc(group.Count());
        return outcomes!;
    }

    /// <summary>
    /// A waiting job is cancelled at once and never starts. A running one is asked to stop: its node (any node)
    /// fires the job's cancellation token within about a second and records it cancelled. Joins the caller's
    /// transaction when there is one.
    /// </summary>
    public async Task<CommandOutcome> CancelAsync(Guid? tenantId, Guid jobId, CancellationToken ct)
    {
        var now = DateTimeOffset.UtcNow;
        var job = await Jobs(tenantId).AsNoTracking().FirstOrDefaultAsync(j => j.Id == jobId, ct);
        if (job is null) return new CommandOutcome(CommandStatus.NotFound, null);
        if (job.State.IsTerminal()) return new CommandOutcome(CommandStatus.Conflict, job);

        // A waiting job ends here: what features write when a job ends (IJobEndedHandler: its webhook, if it has a
        // callback) is stored in the same transaction.
        var concerned = endedHandlers.Where(h => h.Concerns(job, JobState.Cancelled)).ToList();
        await using var tx = concerned.Count == 0 || db.Database.CurrentTransaction is not null ? null : await db.Database.BeginTransactionAsync(ct);
        var waiting = await store.CancelWaitingAsync(jobId, now, ct);
        if (waiting)
        {
            foreach (var handler in concerned)
            {
                await handler.JobsEndedAsync([new TerminalJob(job, JobState.Cancelled, "Cancelled before it ran.", null)], db, this, ct);
            }
            await store.NotifyChangedAsync(jobId, ct);
        }
        if (tx is not null) await tx.CommitAsync(ct);
        if (!waiting && await store.RequestCancelAsync(jobId, now, ct))
        {
            await db.Database.ExecuteSqlAsync($"SELECT pg_notify({CancelChannel}, {jobId.ToString()})", ct);
        }
        return new CommandOutcome(CommandStatus.Done, await Jobs(tenantId).AsNoTracking().FirstAsync(j => j.Id == jobId, ct));
    }

    /// <summary>
    /// A failed or cancelled job starts a new run: attempts count from zero again, earlier errors are kept. Joins the
    /// caller's transaction when there is one (a feature resetting its row with the retry), and leaves the commit to it.
    /// </summary>
    public async Task<CommandOutcome> RetryAsync(Guid? tenantId, Guid jobId, CancellationToken ct)
    {
        var job = await Jobs(tenantId).AsNoTracking().FirstOrDefaultAsync(j => j.Id == jobId, ct);
        if (job is null) return new CommandOutcome(CommandStatus.NotFound, null);

        var now = DateTimeOffset.UtcNow;
        var outer = db.Database.CurrentTransaction;
        await using var own = outer is null ? await db.Database.BeginTransactionAsync(ct) : null;
        try
        {
            if (!await store.StartNewRunAsync(jobId, now, ct)) return new CommandOutcome(CommandStatus.Conflict, job);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation && own is not null)
        {
            // Its unique key was taken by a job submitted at the same moment.
            return new CommandOutcome(CommandStatus.Conflict, job);
        }

        await tickets.ScheduleAsync((outer ?? own)!.GetDbTransaction(), [now], ct);
        await store.NotifyChangedAsync(jobId, ct);
        if (own is not null) await own.CommitAsync(ct);
        return new CommandOutcome(CommandStatus.Done, await Jobs(tenantId).AsNoTracking().FirstAsync(j => j.Id == jobId, ct));
    }

    /// <summary>
    /// Every failed job of one type (of one tenant, or of all for the admin) starts a new run, as
    /// <see cref="RetryAsync"/> does for one: one statement, and in the same transaction one wake-up of the worker nodes
    /// (they are due now). Returns how many were retried.
    /// </summary>
    public async Task<int> RetryFailedAsync(Guid? tenantId, string type, CancellationToken ct)
    {
        var now = DateTimeOffset.UtcNow;
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var updated = await store.StartNewRunsOfFailedAsync(tenantId, type, now, ct);
        if (updated > 0) await tickets.ScheduleAsync(tx.GetDbTransaction(), [now], ct);
        await tx.CommitAsync(ct);
        return updated;
    }

    /// <summary>
    /// Deletes a finished job (succeeded, failed or cancelled) and its attempts. A waiting or running job is a
    /// conflict: cancel it first.
    /// </summary>
    public async Task<CommandOutcome> DeleteAsync(Guid? tenantId, Guid jobId, CancellationToken ct)
    {
        var job = await Jobs(tenantId).AsNoTracking().FirstOrDefaultAsync(j => j.Id == jobId, ct);
        if (job is null) return new CommandOutcome(CommandStatus.NotFound, null);
        return await store.DeleteFinishedAsync(jobId, ct)
            ? new CommandOutcome(CommandStatus.Done, job)
            : new CommandOutcome(CommandStatus.Conflict, await Jobs(tenantId).AsNoTracking().FirstOrDefaultAsync(j => j.Id == jobId, ct) ?? job);
    }

    private IQueryable<Job> Jobs(Guid? tenantId) => tenantId is { } id ? db.Jobs.Where(j => j.TenantId == id) : db.Jobs;

    private Task<Job?> FindByKeyAsync(NewJob request) =>
        db.Jobs.AsNoTracking().FirstOrDefaultAsync(j => j.TenantId == request.TenantId && j.IdempotencyKey == request.IdempotencyKey);

    private static SubmitOutcome Replay(Job existing, NewJob request)
    {
        var same = existing.RequestHash is { } stored && (request.SameRequestHashes?.Contains(stored) ?? stored == request.RequestHash);
        return new(same ? SubmitStatus.Replayed : SubmitStatus.KeyConflict, existing);
    }
}

/// <summary>
/// What a submit did: created the job; replayed an Idempotency-Key (the job that request created); refused an
/// Idempotency-Key used with another request; or found its unique key held (the holder is the answer, nothing was stored).
/// </summary>
public enum SubmitStatus { Created, Replayed, KeyConflict, UniqueKeyHeld }

public sealed record SubmitOutcome(SubmitStatus Status, Job Job);

/// <summary>What a command did: done, nothing found to do it to, not possible in the current state, or refused input.</summary>
public enum CommandStatus { Done, NotFound, Conflict, Invalid }

public sealed record CommandOutcome(CommandStatus Status, Job? Job);
