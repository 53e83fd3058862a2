using Microsoft.EntityFrameworkCore;
using Monolith.Domain.Persistence;

namespace Monolith.Domain.Jobs;

/// <summary>
/// The engine's writes to the jobs table: claim, recover, progress, finish. Every write after a claim is
/// fenced by the attempt's lease token: if the token is no longer current (the job was recovered and re-run
/// elsewhere, or cancelled), the write changes nothing and the method says so by returning false.
/// </summary>
public sealed class JobStore(MonolithDbContext db)
{
    public MonolithDbContext Db => db;

    /// <summary>
    /// Claims up to <paramref name="limit"/> due jobs for one dispatch ticket, trying the queues in the given
    /// order and, within a queue, highest priority first, then oldest. <c>FOR UPDATE SKIP LOCKED</c> lets many
    /// nodes claim at once without waiting on each other or taking the same job.
    /// </summary>
    public async Task<List<Job>> ClaimAsync(Guid ticketId, string node, IReadOnlyList<string> queues, int limit, CancellationToken ct)
    {
        var queueOrder = queues.ToArray();
        // One statement: for each queue in the given order, its best due jobs (index ix_jobs_claim), then the first
        // `limit` of those in queue order. Rows looked at but not taken are unlocked when the statement commits.
        return await db.Jobs.FromSql($"""
            UPDATE jobs SET state = 'running', attempt = attempt + 1, lease_token = gen_random_uuid(),
                   node = {node}, ticket_id = {ticketId}, started_at = now(),
                   progress_percent = NULL, progress_message = NULL
            WHERE id IN (
                SELECT candidate.id
                FROM unnest({queueOrder}::text[]) WITH ORDINALITY AS q(name, rank)
                CROSS JOIN LATERAL (
                    SELECT id, priority, scheduled_at FROM jobs
                    WHERE state IN ('scheduled', 'queued', 'retrying') AND queue = q.name AND scheduled_at <= now()
                    ORDER BY priority DESC, scheduled_at, id
                    LIMIT {limit}
                    FOR UPDATE SKIP LOCKED) AS candidate
                ORDER BY q.rank, candidate.priority DESC, candidate.scheduled_at, candidate.id
                LIMIT {limit})
            RETURNING *
            """).AsNoTracking().ToListAsync(ct);
    }

    /// <summary>
    /// Takes over the jobs a dispatch ticket had claimed when its node died or shut down mid-run: each gets a
    /// new lease (fencing the old node out), a new attempt number, and a 'lost' record for the attempt that
    /// never finished.
    /// </summary>
    public async Task<List<Job>> ReclaimAsync(Guid ticketId, string node, CancellationToken ct) =>
        await db.Jobs.FromSql($"""
            WITH lost AS (
                SELECT id, attempt, node, started_at FROM jobs
                WHERE ticket_id = {ticketId} AND state = 'running'
                FOR UPDATE),
            recorded AS (
                INSERT INTO job_attempts (job_id, attempt, node, started_at, finished_at, outcome, error)
                SELECT id, attempt, coalesce(node, ''), coalesce(started_at, now()), now(), 'lost',
                       'The node running this attempt stopped before it finished; the job was recovered.'
                FROM lost)
            UPDATE jobs j SET attempt = j.attempt + 1, lease_token = gen_random_uuid(), node = {node},
                   started_at = now(), progress_percent = NULL, progress_message = NULL
            FROM lost WHERE j.id = lost.id
            RETURNING j.*
            """).AsNoTracking().ToListAsync(ct);

    /// <summary>Records progress for the current attempt; false when the lease is no longer current.</summary>
    public async Task<bool> ReportProgressAsync(Guid jobId, Guid lease, int percent, string? message, CancellationToken ct) =>
        await db.Jobs
            .Where(j => j.Id == jobId && j.LeaseToken == lease && j.State == JobState.Running)
            .ExecuteUpdateAsync(s => s
                .SetProperty(j => j.ProgressPercent, percent)
                .SetProperty(j => j.ProgressMessage, message), ct) == 1;

    /// <summary>
    /// Ends the current attempt: moves the job to its next state and keeps the attempt's record. Runs in the
    /// caller's transaction when there is one (the engine schedules a retry's ticket in the same one).
    /// </summary>
    public async Task<bool> FinishAttemptAsync(Job claimed, AttemptResult result, CancellationToken ct)
    {
        var now = DateTimeOffset.UtcNow;
        var finished = result.NextState.IsTerminal() ? now : (DateTimeOffset?)null;
        var updated = await db.Jobs
            .Where(j => j.Id == claimed.Id && j.LeaseToken == claimed.LeaseToken && j.State == JobState.Running)
            .ExecuteUpdateAsync(s =>
            {
                s.SetProperty(j => j.State, result.NextState);
                s.SetProperty(j => j.FinishedAt, finished);
                s.SetProperty(j => j.Result, result.ResultJson);
                s.SetProperty(j => j.LeaseToken, (Guid?)null);
                if (result.RetryAt is { } retryAt) s.SetProperty(j => j.ScheduledAt, retryAt);
                if (result.Error is { } error) s.SetProperty(j => j.LastError, error);
                if (result.NextState == JobState.Succeeded) s.SetProperty(j => j.ProgressPercent, 100);
            }, ct);
        if (updated == 0) return false;

        db.JobAttempts.Add(new JobAttempt
        {
            JobId = claimed.Id,
            Attempt = claimed.Attempt,
            Node = claimed.Node ?? "",
            StartedAt = claimed.StartedAt ?? now,
            FinishedAt = now,
            Outcome = result.Outcome,
            Error = result.Error,
        });
        await db.SaveChangesAsync(ct);
        return true;
    }

    /// <summary>Of the given running jobs, those a client has asked to cancel.</summary>
    public async Task<List<Guid>> CancelRequestedAsync(IReadOnlyCollection<Guid> jobIds, CancellationToken ct) =>
        await db.Jobs.Where(j => jobIds.Contains(j.Id) && j.CancelRequestedAt != null).Select(j => j.Id).ToListAsync(ct);
}
