using Microsoft.EntityFrameworkCore;
using Monolith.Domain.Persistence;

namespace Monolith.Domain.Jobs;

/// <summary>What clients read about jobs. Every query is scoped to one tenant (null: the admin, who sees all).</summary>
public sealed class JobQueries(MonolithDbContext db)
{
    public const int MaxPageSize = 200;

    /// <summary>
    /// The jobs behind a page of datasets, transfers or syncs, by id (null ids are skipped). The ids come from rows
    /// already read for the caller's tenant, so there is no tenant filter here. <paramref name="withAttempts"/>: with
    /// each job's attempts (a transfer shows them).
    /// </summary>
    public async Task<Dictionary<Guid, Job>> ByIdsAsync(IEnumerable<Guid?> jobIds, CancellationToken ct, bool withAttempts = false)
    {
        var ids = jobIds.OfType<Guid>().Distinct().ToList();
        if (ids.Count == 0) return [];
        var jobs = db.Jobs.AsNoTracking().Where(j => ids.Contains(j.Id));
        return await (withAttempts ? jobs.Include(j => j.Attempts) : jobs).ToDictionaryAsync(j => j.Id, ct);
    }

    public Task<Job?> GetAsync(Guid? tenantId, Guid jobId, CancellationToken ct) =>
        ForTenant(tenantId).AsNoTracking()
            .Include(j => j.Attempts.OrderBy(a => a.Id))
            .FirstOrDefaultAsync(j => j.Id == jobId, ct);

    /// <summary>
    /// The job row's version (PostgreSQL's <c>xmin</c>: it changes with every write of the row), or null when there
    /// is no such job: one small read by primary key, for a waiter to tell whether reading the whole job again
    /// (<see cref="GetAsync"/>: payload, result, attempts) is worth it. Not tenant-scoped: read the job first.
    /// </summary>
    public async Task<long?> VersionAsync(Guid jobId, CancellationToken ct) =>
        (await db.Database.SqlQuery<long>($"SELECT xmin::text::bigint AS \"Value\" FROM jobs WHERE id = {jobId}").ToListAsync(ct))
            is [var version] ? version : null;

    /// <summary>
    /// One page, newest first. Ids are time-ordered (UUIDv7), so the cursor is the last id seen: jobs added
    /// while a client pages have larger ids and never shift the pages it has yet to read.
    /// </summary>
    public async Task<List<Job>> ListAsync(Guid? tenantId, JobFilter filter, Guid? after, int limit, CancellationToken ct)
    {
        var query = ForTenant(tenantId).AsNoTracking();
        if (filter.Type is not null) query = query.Where(j => j.Type == filter.Type);
        if (filter.Queue is not null) query = query.Where(j => j.Queue == filter.Queue);
        if (filter.State is { } state) query = WhereEffectiveState(query, state, DateTimeOffset.UtcNow);
        if (after is { } cursor) query = query.Where(j => j.Id < cursor);
        return await query.OrderByDescending(j => j.Id).Take(Math.Clamp(limit, 1, MaxPageSize)).ToListAsync(ct);
    }

    /// <summary>
    /// Attempts finished per minute since <paramref name="since"/>, every tenant's (the dashboard's chart): how many
    /// succeeded and how many failed (failed, timed_out or lost; cancelled ones count as neither). Minutes with no
    /// attempt are absent. A range of <c>ix_job_attempts_finished_at</c>, read from the index alone.
    /// </summary>
    public Task<List<MinuteThroughput>> ThroughputAsync(DateTimeOffset since, CancellationToken ct) =>
        db.Database.SqlQuery<MinuteThroughput>($"""
            SELECT date_trunc('minute', finished_at) AS "Minute",
                   count(*) FILTER (WHERE outcome = 'succeeded')::int AS "Succeeded",
                   count(*) FILTER (WHERE outcome IN ('failed', 'timed_out', 'lost'))::int AS "Failed"
            FROM job_attempts
            WHERE finished_at >= {since}
            GROUP BY 1
            ORDER BY 1
            """).ToListAsync(ct);

    /// <summary>
    /// The state a client sees. A scheduled or retrying job whose time has come is waiting for a worker like
    /// any other, so it reads as queued (see docs/job-states.md); nothing has to rewrite the row for that.
    /// </summary>
    public static JobState EffectiveState(Job job, DateTimeOffset now) =>
        job.State is JobState.Scheduled or JobState.Retrying && job.ScheduledAt <= now ? JobState.Queued : job.State;

    private static IQueryable<Job> WhereEffectiveState(IQueryable<Job> query, JobState state, DateTimeOffset now) => state switch
    {
        JobState.Queued => query.Where(j => j.State == JobState.Queued
            || ((j.State == JobState.Scheduled || j.State == JobState.Retrying) && j.ScheduledAt <= now)),
        JobState.Scheduled or JobState.Retrying => query.Where(j => j.State == state && j.ScheduledAt > now),
        _ => query.Where(j => j.State == state),
    };

    private IQueryable<Job> ForTenant(Guid? tenantId) =>
        tenantId is { } id ? db.Jobs.Where(j => j.TenantId == id) : db.Jobs;
}

/// <summary>Attempts that finished in one minute.</summary>
public sealed record MinuteThroughput(DateTimeOffset Minute, int Succeeded, int Failed);

/// <summary>Optional filters of a job listing.</summary>
public sealed record JobFilter(JobState? State = null, string? Type = null, string? Queue = null);
