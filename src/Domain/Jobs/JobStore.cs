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
                WHERE NOT EXISTS (SELECT 1 FROM queue_pauses p WHERE p.queue = q.name)
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

    /// <summary>
    /// Records progress for the current attempt and tells waiters (<see cref="JobChanges"/>) in the same statement;
    /// false when the lease is no longer current.
    /// </summary>
    public async Task<bool> ReportProgressAsync(Guid jobId, Guid lease, int percent, string? message, CancellationToken ct) =>
        (await db.Database.SqlQuery<int>($"""
            WITH updated AS (
                UPDATE jobs SET progress_percent = {percent}, progress_message = {message}
                WHERE id = {jobId} AND lease_token = {lease} AND state = 'running'
                RETURNING id)
            SELECT count(pg_notify({JobChanges.Channel}, id::text))::int AS "Value" FROM updated
            """).ToListAsync(ct)).Single() == 1;

    /// <summary>Tells waiters on every node that a job changed (<see cref="JobChanges"/>), at the caller's commit.</summary>
    public Task NotifyChangedAsync(Guid jobId, CancellationToken ct) =>
        db.Database.ExecuteSqlAsync($"SELECT pg_notify({JobChanges.Channel}, {jobId.ToString()})", ct);

    /// <summary>
    /// Deletes up to <paramref name="limit"/> results whose time to live has passed (the column is set to NULL and
    /// <see cref="Job.ResultExpired"/> to true), oldest deadline first; returns how many. Rows locked by a writer are
    /// skipped and taken on a later round.
    /// </summary>
    public async Task<int> DeleteExpiredResultsAsync(int limit, CancellationToken ct) =>
        (await db.Database.SqlQuery<int>($"""
            WITH expired AS (
                SELECT id FROM jobs
                WHERE result_expires_at IS NOT NULL AND NOT result_expired AND result_expires_at <= now()
                ORDER BY result_expires_at
                LIMIT {limit}
                FOR UPDATE SKIP LOCKED),
            deleted AS (
                UPDATE jobs j SET result = NULL, result_expired = true
                FROM expired WHERE j.id = expired.id
                RETURNING j.id)
            SELECT count(*)::int AS "Value" FROM deleted
            """).ToListAsync(ct)).Single();

    /// <summary>Ends one attempt; see <see cref="FinishAttemptsAsync"/>. False when its lease was no longer current.</summary>
    public async Task<bool> FinishAttemptAsync(Job claimed, AttemptResult result, CancellationToken ct) =>
        (await FinishAttemptsAsync([(claimed, result)], ct)).Contains(claimed.Id);

    /// <summary>
    /// Ends many attempts in one statement: each job moves to its next state and its attempt's record is kept.
    /// Fenced per job: an attempt whose lease is no longer current changes nothing. Returns the ids written. A
    /// terminal job with a result and a time to live gets its <see cref="Job.ResultExpiresAt"/>; waiters are notified
    /// (<see cref="JobChanges"/>) by the same statement.
    /// Runs in the caller's transaction when there is one (the engine schedules retries' tickets in the same one).
    /// </summary>
    public async Task<HashSet<Guid>> FinishAttemptsAsync(IReadOnlyList<(Job Claimed, AttemptResult Result)> attempts, CancellationToken ct)
    {
        var now = DateTimeOffset.UtcNow;
        var ids = attempts.Select(a => a.Claimed.Id).ToArray();
        var leases = attempts.Select(a => a.Claimed.LeaseToken ?? Guid.Empty).ToArray();
        var states = attempts.Select(a => a.Result.NextState.ToName()).ToArray();
        var outcomes = attempts.Select(a => a.Result.Outcome).ToArray();
        var errors = attempts.Select(a => a.Result.Error).ToArray();
        var results = attempts.Select(a => a.Result.ResultJson).ToArray();
        var retryAt = attempts.Select(a => a.Result.RetryAt).ToArray();
        var terminal = attempts.Select(a => a.Result.NextState.IsTerminal()).ToArray();

        // One statement: the fenced update, then the attempt records of exactly the rows it changed.
        var written = await db.Database.SqlQuery<Guid>($"""
            WITH outcome AS (
                SELECT * FROM unnest({ids}::uuid[], {leases}::uuid[], {states}::text[], {outcomes}::text[], {errors}::text[],
                                     {results}::text[], {retryAt}::timestamptz[], {terminal}::boolean[])
                    AS o(id, lease, state, outcome, error, result, retry_at, terminal)),
            finished AS (
                UPDATE jobs j SET state = o.state,
                       finished_at = CASE WHEN o.terminal THEN {now} END,
                       result = o.result::jsonb,
                       result_expires_at = CASE WHEN o.terminal AND o.result IS NOT NULL AND j.result_ttl_seconds IS NOT NULL
                                                THEN {now} + make_interval(secs => j.result_ttl_seconds) END,
                       result_expired = false,
                       lease_token = NULL,
                       scheduled_at = coalesce(o.retry_at, j.scheduled_at),
                       last_error = coalesce(o.error, j.last_error),
                       progress_percent = CASE WHEN o.state = 'succeeded' THEN 100 ELSE j.progress_percent END
                FROM outcome o
                WHERE j.id = o.id AND j.lease_token = o.lease AND j.state = 'running'
                RETURNING j.id, j.attempt, j.node, j.started_at),
            recorded AS (
                INSERT INTO job_attempts (job_id, attempt, node, started_at, finished_at, outcome, error)
                SELECT f.id, f.attempt, coalesce(f.node, ''), coalesce(f.started_at, {now}), {now}, o.outcome, o.error
                FROM finished f JOIN outcome o ON o.id = f.id),
            -- Waiters on any node hear of the new states at commit (JobChanges): one notification per 200 ids.
            notified AS (
                SELECT count(pg_notify({JobChanges.Channel}, ids)) AS sent
                FROM (SELECT string_agg(id::text, ',') AS ids
                      FROM (SELECT id, (row_number() OVER () - 1) / {JobChanges.MaxIdsPerNotification} AS chunk FROM finished) numbered
                      GROUP BY chunk) chunks)
            SELECT id AS "Value" FROM finished CROSS JOIN notified
            """).ToListAsync(ct);
        return written.ToHashSet();
    }

    /// <summary>Of the given running jobs, those a client has asked to cancel.</summary>
    public async Task<List<Guid>> CancelRequestedAsync(IReadOnlyCollection<Guid> jobIds, CancellationToken ct) =>
        await db.Jobs.Where(j => jobIds.Contains(j.Id) && j.CancelRequestedAt != null).Select(j => j.Id).ToListAsync(ct);
}
