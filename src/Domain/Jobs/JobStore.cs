using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Query;
using Microsoft.EntityFrameworkCore.Storage;
using Monolith.Domain.Persistence;
using Npgsql;

namespace Monolith.Domain.Jobs;

/// <summary>
/// Every write to the jobs table: insert (submissions), cancel, a client's retry, delete, retention, and the
/// engine's claim, recovery, progress and finish. Its one partner is <see cref="JobClaims"/>, the hot path's part of
/// it (the standing dispatch's claim and hand-back, in plain Npgsql on a singleton, with no DI scope per claim); this
/// class is scoped on the <see cref="MonolithDbContext"/>, so its writes join the caller's transaction (a submission
/// with its tickets, an outcome with its retries' tickets and what ended jobs cause). Nothing else writes the table;
/// reads stay with their features (<see cref="JobQueries"/> and others).
/// <para>
/// Every write after a claim is fenced by the attempt's lease token: if the token is no longer current (the job was
/// recovered and re-run elsewhere, or cancelled), the write changes nothing and the method says so by returning false.
/// </para>
/// </summary>
public sealed class JobStore(MonolithDbContext db)
{
    public MonolithDbContext Db => db;

    /// <summary>
    /// Inserts new jobs, in the caller's transaction when there is one, and returns the ids written. A job with a
    /// <see cref="Job.UniqueKey"/> whose key another job of its tenant holds (<see cref="UniqueScopes.WindowSql"/>, this
    /// statement's earlier rows included) is not written, and its id is missing from the answer: the caller reads the
    /// holder (<see cref="FindKeyHoldersAsync"/>). Nothing stays tracked afterwards, whether the insert was written or
    /// refused (an idempotency key already taken, data PostgreSQL refuses), so the scope's next write starts clean.
    /// </summary>
    public async Task<HashSet<Guid>> InsertAsync(IReadOnlyList<Job> jobs, CancellationToken ct)
    {
        // One statement however many jobs (unnest of one array per column), in plain Npgsql on the context's connection
        // and transaction: no change tracking, one round trip. A refused row throws PostgresException (a unique key:
        // 23505; data PostgreSQL cannot store: class 22) and nothing of the statement is written. Only a batch holding a
        // unique key pays for the ON CONFLICT arbiter.
        var unique = jobs.Any(j => j.UniqueKey is not null);
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            await using var command = new NpgsqlCommand(unique ? InsertSql + OnUniqueKeyTaken : InsertSql,
                (NpgsqlConnection)db.Database.GetDbConnection(), (NpgsqlTransaction?)db.Database.CurrentTransaction?.GetDbTransaction())
            {
                Parameters =
                {
                    new NpgsqlParameter<Guid[]> { TypedValue = [.. jobs.Select(j => j.Id)] },
                    new NpgsqlParameter<Guid[]> { TypedValue = [.. jobs.Select(j => j.TenantId)] },
                    new NpgsqlParameter<string[]> { TypedValue = [.. jobs.Select(j => j.Type)] },
                    new NpgsqlParameter<string[]> { TypedValue = [.. jobs.Select(j => j.Queue)] },
                    new NpgsqlParameter<int[]> { TypedValue = [.. jobs.Select(j => j.Priority)] },
                    new NpgsqlParameter<string[]> { TypedValue = [.. jobs.Select(j => j.State.ToName())] },
                    new NpgsqlParameter<string[]> { TypedValue = [.. jobs.Select(j => j.Payload)] },
                    new NpgsqlParameter<int[]> { TypedValue = [.. jobs.Select(j => j.MaxAttempts)] },
                    new NpgsqlParameter<int?[]> { TypedValue = [.. jobs.Select(j => j.TimeoutSeconds)] },
                    new NpgsqlParameter<double[]> { TypedValue = [.. jobs.Select(j => j.BackoffSeconds)] },
                    new NpgsqlParameter<DateTimeOffset[]> { TypedValue = [.. jobs.Select(j => j.CreatedAt)] },
                    new NpgsqlParameter<DateTimeOffset[]> { TypedValue = [.. jobs.Select(j => j.ScheduledAt)] },
                    new NpgsqlParameter<string?[]> { TypedValue = [.. jobs.Select(j => j.IdempotencyKey)] },
                    new NpgsqlParameter<string?[]> { TypedValue = [.. jobs.Select(j => j.RequestHash)] },
                    new NpgsqlParameter<int?[]> { TypedValue = [.. jobs.Select(j => j.ResultTtlSeconds)] },
                    new NpgsqlParameter<string?[]> { TypedValue = [.. jobs.Select(j => j.CallbackUrl)] },
                    new NpgsqlParameter<string?[]> { TypedValue = [.. jobs.Select(j => j.TraceParent)] },
                    new NpgsqlParameter<string?[]> { TypedValue = [.. jobs.Select(j => j.UniqueKey)] },
                    new NpgsqlParameter<string?[]> { TypedValue = [.. jobs.Select(j => j.UniqueScope?.ToName())] },
                },
            };
            if (!unique)
            {
                await command.ExecuteNonQueryAsync(ct);
                return [.. jobs.Select(j => j.Id)]; // all of them, or it threw
            }
            var written = new HashSet<Guid>(jobs.Count);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) written.Add(reader.GetGuid(0));
            return written;
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private const string InsertSql = """
        INSERT INTO jobs (id, tenant_id, type, queue, priority, state, payload, attempt, max_attempts, timeout_seconds,
                          backoff_seconds, created_at, scheduled_at, idempotency_key, request_hash, result_ttl_seconds,
                          callback_url, trace_parent, result_expired, unique_key, unique_scope)
        SELECT id, tenant_id, type, queue, priority, state, payload::jsonb, 0, max_attempts, timeout_seconds,
               backoff_seconds, created_at, scheduled_at, idempotency_key, request_hash, result_ttl_seconds,
               callback_url, trace_parent, false, unique_key, unique_scope
        FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::int[], $6::text[], $7::text[], $8::int[], $9::int[],
                    $10::float8[], $11::timestamptz[], $12::timestamptz[], $13::text[], $14::text[], $15::int[], $16::text[],
                    $17::text[], $18::text[], $19::text[])
             AS u(id, tenant_id, type, queue, priority, state, payload, max_attempts, timeout_seconds, backoff_seconds,
                  created_at, scheduled_at, idempotency_key, request_hash, result_ttl_seconds, callback_url, trace_parent,
                  unique_key, unique_scope)
        """;

    /// <summary>The arbiter of unique jobs: a row whose key is taken is skipped (race-free: the index decides, not a read).</summary>
    private const string OnUniqueKeyTaken = $"""

        ON CONFLICT (tenant_id, unique_key) WHERE {UniqueScopes.WindowSql} DO NOTHING
        RETURNING id
        """;

    /// <summary>
    /// The jobs holding the given keys now (inside their window), of one tenant each, with their attempts; a key whose
    /// holder has left its window since is missing. In the caller's transaction, so it sees that transaction's own inserts.
    /// </summary>
    public async Task<List<Job>> FindKeyHoldersAsync(IReadOnlyCollection<(Guid TenantId, string UniqueKey)> keys, CancellationToken ct)
    {
        var tenants = keys.Select(k => k.TenantId).ToArray();
        var uniqueKeys = keys.Select(k => k.UniqueKey).ToArray();
        return await db.Jobs.FromSqlRaw(KeyHoldersSql, tenants, uniqueKeys).AsNoTracking().Include(j => j.Attempts).ToListAsync(ct);
    }

    private const string KeyHoldersSql =
        "SELECT * FROM jobs WHERE (tenant_id, unique_key) IN (SELECT * FROM unnest({0}::uuid[], {1}::text[])) AND " + UniqueScopes.WindowSql;

    /// <summary>Cancels a job that is still waiting (scheduled, queued or retrying), so it never starts. False when it no longer waits.</summary>
    public async Task<bool> CancelWaitingAsync(Guid jobId, DateTimeOffset now, CancellationToken ct) =>
        await db.Jobs
            .Where(j => j.Id == jobId && JobStates.Waiting.Contains(j.State))
            .ExecuteUpdateAsync(s => s
                .SetProperty(j => j.State, JobState.Cancelled)
                .SetProperty(j => j.CancelRequestedAt, now)
                .SetProperty(j => j.FinishedAt, now), ct) == 1;

    /// <summary>
    /// Records a client's request to stop a running job; its node stops the handler and records the outcome. False when
    /// the job is not running.
    /// </summary>
    public async Task<bool> RequestCancelAsync(Guid jobId, DateTimeOffset now, CancellationToken ct) =>
        await db.Jobs
            .Where(j => j.Id == jobId && j.State == JobState.Running)
            .ExecuteUpdateAsync(s => s.SetProperty(j => j.CancelRequestedAt, now), ct) == 1;

    /// <summary>
    /// A failed or cancelled job starts a new run (<see cref="StartNewRun"/>). False when it is neither, or when its
    /// <see cref="Job.UniqueKey"/> is held by another job now (a new run would be a second job inside the key's window).
    /// A holder that appears at the same moment makes PostgreSQL refuse the write (23505, index <c>ux_jobs_unique_key</c>).
    /// </summary>
    public async Task<bool> StartNewRunAsync(Guid jobId, DateTimeOffset now, CancellationToken ct) =>
        await db.Jobs
            .Where(j => j.Id == jobId && (j.State == JobState.Failed || j.State == JobState.Cancelled))
            .Where(KeyFree)
            .ExecuteUpdateAsync(s => StartNewRun(s, now), ct) == 1;

    /// <summary>
    /// A job without a unique key, or whose key no other job holds now (<see cref="UniqueScopes.WindowSql"/>, in LINQ)
    /// and which is the newest failed job of its key (two retried at once would both hold it).
    /// </summary>
    private System.Linq.Expressions.Expression<Func<Job, bool>> KeyFree => j => j.UniqueKey == null || (
        !db.Jobs.Any(o => o.TenantId == j.TenantId && o.UniqueKey == j.UniqueKey && o.Id != j.Id
            && (o.State == JobState.Scheduled || o.State == JobState.Queued
                || (o.UniqueScope == Jobs.UniqueScope.UntilExecuted && (o.State == JobState.Running || o.State == JobState.Retrying))))
        && !db.Jobs.Any(o => o.TenantId == j.TenantId && o.UniqueKey == j.UniqueKey && o.State == JobState.Failed && o.Id > j.Id));

    /// <summary>
    /// Every failed job of <paramref name="type"/> (of one tenant, or of every tenant when <paramref name="tenantId"/> is
    /// null) starts a new run, in one statement; of jobs with a unique key, only those whose key is free (as
    /// <see cref="StartNewRunAsync"/>). Returns how many.
    /// </summary>
    public Task<int> StartNewRunsOfFailedAsync(Guid? tenantId, string type, DateTimeOffset now, CancellationToken ct) =>
        (tenantId is { } id ? db.Jobs.Where(j => j.TenantId == id) : db.Jobs)
            .Where(j => j.Type == type && j.State == JobState.Failed)
            .Where(KeyFree)
            .ExecuteUpdateAsync(s => StartNewRun(s, now), ct);

    /// <summary>What a client's retry writes: a new run from attempt 0, due now; earlier attempts and errors are kept.</summary>
    private static void StartNewRun(UpdateSettersBuilder<Job> s, DateTimeOffset now) => s
        .SetProperty(j => j.State, JobState.Queued)
        .SetProperty(j => j.Attempt, 0)
        .SetProperty(j => j.ScheduledAt, now)
        .SetProperty(j => j.CancelRequestedAt, (DateTimeOffset?)null)
        .SetProperty(j => j.FinishedAt, (DateTimeOffset?)null)
        .SetProperty(j => j.ProgressPercent, (int?)null)
        .SetProperty(j => j.ProgressMessage, (string?)null)
        .SetProperty(j => j.ResultExpiresAt, (DateTimeOffset?)null)
        .SetProperty(j => j.ResultExpired, false);

    /// <summary>Deletes a finished job (succeeded, failed or cancelled) and its attempts. False when it is not finished, or gone.</summary>
    public async Task<bool> DeleteFinishedAsync(Guid jobId, CancellationToken ct) =>
        await db.Jobs.Where(j => j.Id == jobId && JobStates.Terminal.Contains(j.State)).ExecuteDeleteAsync(ct) == 1;

    /// <summary>
    /// Retention: deletes up to <paramref name="limit"/> jobs in <paramref name="state"/> that finished before
    /// <paramref name="cutoff"/>, oldest first (index <c>ix_jobs_finished</c>), skipping rows another transaction holds,
    /// in one statement of its own (their attempts go with them, by the foreign key). Returns how many.
    /// </summary>
    public Task<int> DeleteFinishedBeforeAsync(JobState state, DateTimeOffset cutoff, int limit, CancellationToken ct) =>
        db.Database.ExecuteSqlAsync($"""
            DELETE FROM jobs WHERE id IN (
                SELECT id FROM jobs
                WHERE state = {state.ToName()} AND finished_at < {cutoff}
                ORDER BY finished_at
                LIMIT {limit}
                FOR UPDATE SKIP LOCKED)
            """, ct);

    /// <summary>
    /// The claim under concurrency caps: in one short transaction, take a transaction-scoped advisory lock per capped
    /// queue and type (in a fixed order, so claimers on every node take turns and never deadlock), count what runs now
    /// for each capped key, and claim at most the rest: per type and per queue, the best jobs up to what the cap still
    /// allows. The locks are held until the claim commits, so two nodes never both fill the same last place.
    /// Rate-limited types are counted the same way, from their one-second window (<see cref="TypeRateWindow"/>), which
    /// the claim advances. <see cref="CappedClaim.RateLimitedUntil"/> tells when a type held back by its rate may start
    /// more (the caller schedules a ticket then).
    /// </summary>
    /// <param name="fence">The claiming Quartz firing (cluster name, fire instance id): the claim takes nothing, and throws
    /// a <see cref="PostgresException"/> with <see cref="JobClaims.FiringNotLive"/>, when Quartz no longer has it (as
    /// <c>monolith_claim</c> does).</param>
    public async Task<CappedClaim> ClaimCappedAsync(Guid ticketId, string node, IReadOnlyList<string> queues, int limit, ClaimCaps caps, CancellationToken ct,
        (string Cluster, string FireInstanceId)? fence = null)
    {
        var queueOrder = queues.ToArray();
        var lockKeys = caps.LockKeys();
        var cappedQueues = caps.Queues.Keys.ToArray();
        var cappedTypes = caps.Types.Keys.ToArray();
        var ratedTypes = caps.Rates.Keys.ToArray();
        var windows = new Dictionary<string, (bool Current, DateTimeOffset Start, int Started)>(StringComparer.Ordinal);
        var now = DateTimeOffset.UtcNow;

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        if (fence is { } firing)
        {
            var live = await db.Database.SqlQuery<int>($"""
                SELECT 1 AS "Value" FROM quartz.qrtz_fired_triggers
                WHERE sched_name = {firing.Cluster} AND entry_id = {firing.FireInstanceId} FOR KEY SHARE
                """).ToListAsync(ct);
            if (live.Count == 0)
            {
                throw new PostgresException("The dispatch firing is no longer live (Quartz recovered it).", "ERROR", "ERROR", JobClaims.FiringNotLive);
            }
        }
        // Locks first (held to commit), then what runs now under each capped key: one round trip.
        var running = new Dictionary<string, int>(StringComparer.Ordinal);
        await using (var command = db.Database.GetDbConnection().CreateCommand())
        {
            command.Transaction = tx.GetDbTransaction();
            command.CommandText = """
                SELECT now() FROM (SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest(@keys) AS k ORDER BY k) AS locked LIMIT 1;
                SELECT 'queue:' || queue, count(*)::int FROM jobs WHERE state = 'running' AND queue = ANY(@queues) GROUP BY queue
                UNION ALL
                SELECT 'type:' || type, count(*)::int FROM jobs WHERE state = 'running' AND type = ANY(@types) GROUP BY type;
                SELECT type, window_start > now() - interval '1 second', window_start, started FROM type_rate_windows WHERE type = ANY(@rated);
                """;
            command.Parameters.Add(new NpgsqlParameter("keys", lockKeys));
            command.Parameters.Add(new NpgsqlParameter("queues", cappedQueues));
            command.Parameters.Add(new NpgsqlParameter("types", cappedTypes));
            command.Parameters.Add(new NpgsqlParameter("rated", ratedTypes));
            await using var reader = await command.ExecuteReaderAsync(ct);
            if (await reader.ReadAsync(ct)) now = reader.GetFieldValue<DateTimeOffset>(0);
            await reader.NextResultAsync(ct);
            while (await reader.ReadAsync(ct)) running[reader.GetString(0)] = reader.GetInt32(1);
            await reader.NextResultAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                windows[reader.GetString(0)] = (reader.GetBoolean(1), reader.GetFieldValue<DateTimeOffset>(2), reader.GetInt32(3));
            }
        }
        int Allowed(string key, int cap) => Math.Max(0, cap - running.GetValueOrDefault(key));
        int RateAllowed(string type) =>
            windows.TryGetValue(type, out var w) && w.Current ? Math.Max(0, caps.Rates[type] - w.Started) : caps.Rates[type];
        var queueAllow = cappedQueues.Select(q => Allowed("queue:" + q, caps.Queues[q])).ToArray();
        var limitedTypes = cappedTypes.Union(ratedTypes).ToArray();
        var typeAllow = limitedTypes.Select(t => Math.Min(
            caps.Types.TryGetValue(t, out var cap) ? Allowed("type:" + t, cap) : int.MaxValue,
            caps.Rates.ContainsKey(t) ? RateAllowed(t) : int.MaxValue)).ToArray();
        var fullQueues = cappedQueues.Where((_, i) => queueAllow[i] == 0).ToArray();
        var fullTypes = limitedTypes.Where((_, i) => typeAllow[i] == 0).ToArray();
        cappedTypes = limitedTypes;

        var claimed = await db.Jobs.FromSql($"""
            UPDATE jobs SET state = 'running', attempt = attempt + 1, lease_token = gen_random_uuid(),
                   node = {node}, ticket_id = {ticketId}, started_at = now(),
                   progress_percent = NULL, progress_message = NULL
            WHERE id IN (
                SELECT c.id FROM (
                    SELECT candidate.id, candidate.type, q.name AS queue, q.rank, candidate.priority, candidate.scheduled_at,
                           row_number() OVER (PARTITION BY candidate.type ORDER BY q.rank, candidate.priority DESC, candidate.scheduled_at, candidate.id) AS nth_of_type,
                           row_number() OVER (PARTITION BY q.name ORDER BY candidate.priority DESC, candidate.scheduled_at, candidate.id) AS nth_of_queue
                    FROM unnest({queueOrder}::text[]) WITH ORDINALITY AS q(name, rank)
                    CROSS JOIN LATERAL (
                        SELECT id, type, priority, scheduled_at FROM jobs
                        WHERE state IN ('scheduled', 'queued', 'retrying') AND queue = q.name AND scheduled_at <= now()
                          AND NOT (type = ANY({fullTypes}))
                        ORDER BY priority DESC, scheduled_at, id
                        LIMIT {limit}
                        FOR UPDATE SKIP LOCKED) AS candidate
                    WHERE NOT EXISTS (SELECT 1 FROM queue_pauses p WHERE p.queue = q.name) AND NOT (q.name = ANY({fullQueues}))) AS c
                LEFT JOIN unnest({cappedTypes}::text[], {typeAllow}::int[]) AS ta(type, allowed) ON ta.type = c.type
                LEFT JOIN unnest({cappedQueues}::text[], {queueAllow}::int[]) AS qa(queue, allowed) ON qa.queue = c.queue
                WHERE (ta.allowed IS NULL OR c.nth_of_type <= ta.allowed) AND (qa.allowed IS NULL OR c.nth_of_queue <= qa.allowed)
                ORDER BY c.rank, c.priority DESC, c.scheduled_at, c.id
                LIMIT {limit})
            RETURNING *
            """).AsNoTracking().ToListAsync(ct);

        DateTimeOffset? rateLimitedUntil = null;
        if (ratedTypes.Length > 0)
        {
            // Advance each rated type's window by what was just started, and find the types its rate held back.
            var counts = ratedTypes.Select(t => claimed.Count(j => j.Type == t)).ToArray();
            await db.Database.ExecuteSqlAsync($"""
                INSERT INTO type_rate_windows AS w (type, window_start, started)
                SELECT t, now(), c FROM unnest({ratedTypes}::text[], {counts}::int[]) AS u(t, c) WHERE c > 0
                ON CONFLICT (type) DO UPDATE SET
                    window_start = CASE WHEN w.window_start > now() - interval '1 second' THEN w.window_start ELSE now() END,
                    started = CASE WHEN w.window_start > now() - interval '1 second' THEN w.started + excluded.started ELSE excluded.started END
                """, ct);
            var heldBack = ratedTypes.Where((t, i) => counts[i] >= RateAllowed(t)).ToArray();
            if (heldBack.Length > 0 && await db.Jobs.AnyAsync(j => heldBack.Contains(j.Type) && queueOrder.Contains(j.Queue)
                    && (j.State == JobState.Scheduled || j.State == JobState.Queued || j.State == JobState.Retrying) && j.ScheduledAt <= now, ct))
            {
                rateLimitedUntil = heldBack.Select(t => windows.TryGetValue(t, out var w) && w.Current ? w.Start : now).Min() + TimeSpan.FromSeconds(1);
            }
        }
        await tx.CommitAsync(ct);
        return new CappedClaim(claimed, rateLimitedUntil);
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
    /// Records the progress of many running attempts in one statement and tells waiters (<see cref="JobChanges"/>) in
    /// the same statement, one notification per <see cref="JobChanges.MaxIdsPerNotification"/> ids. Fenced per job: a
    /// report whose lease is no longer current (the job was recovered and re-run elsewhere, or its attempt ended)
    /// changes nothing. Returns the leases written; a report missing from them lost its lease. A message longer than
    /// the column (1,000 characters) is cut to it.
    /// </summary>
    public async Task<HashSet<Guid>> ReportProgressAsync(IReadOnlyList<ProgressReport> reports, CancellationToken ct)
    {
        var ids = reports.Select(r => r.JobId).ToArray();
        var leases = reports.Select(r => r.Lease).ToArray();
        var percents = reports.Select(r => r.Percent).ToArray();
        var messages = reports.Select(r => r.Message).ToArray();
        var written = await db.Database.SqlQuery<Guid>($"""
            WITH updated AS (
                UPDATE jobs j SET progress_percent = r.percent, progress_message = r.message::varchar(1000)
                FROM unnest({ids}::uuid[], {leases}::uuid[], {percents}::int[], {messages}::text[]) AS r(id, lease, percent, message)
                WHERE j.id = r.id AND j.lease_token = r.lease AND j.state = 'running'
                RETURNING j.id, r.lease),
            notified AS (
                SELECT count(pg_notify({JobChanges.Channel}, ids)) AS sent
                FROM (SELECT string_agg(id::text, ',') AS ids
                      FROM (SELECT id, (row_number() OVER () - 1) / {JobChanges.MaxIdsPerNotification} AS chunk FROM updated) numbered
                      GROUP BY chunk) chunks)
            SELECT lease AS "Value" FROM updated CROSS JOIN notified
            """).ToListAsync(ct);
        return written.ToHashSet();
    }

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

/// <summary>What a claim under caps took, and when a type its rate held back may start more (null: none was held back).</summary>
public sealed record CappedClaim(List<Job> Claimed, DateTimeOffset? RateLimitedUntil);
