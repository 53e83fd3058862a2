using Microsoft.EntityFrameworkCore;
using Monolith.Domain.Persistence;

namespace Monolith.Domain.Schedules;

/// <summary>What clients read about schedules, scoped like jobs (a tenant, or null for the admin).</summary>
public sealed class ScheduleQueries(MonolithDbContext db)
{
    public const int MaxPageSize = 200;

    /// <summary>How many of a schedule's latest runs <c>GET /v1/schedules/{id}</c> shows.</summary>
    public const int RecentRuns = 20;

    public Task<Schedule?> GetAsync(Guid? tenantId, Guid scheduleId, CancellationToken ct) =>
        Scoped(tenantId).AsNoTracking().FirstOrDefaultAsync(s => s.Id == scheduleId, ct);

    /// <summary>One page, newest first (ids are UUIDv7): the cursor is the last id seen, as for jobs.</summary>
    public Task<List<Schedule>> ListAsync(Guid? tenantId, Guid? after, int limit, CancellationToken ct)
    {
        var query = Scoped(tenantId).AsNoTracking();
        if (after is { } cursor) query = query.Where(s => s.Id < cursor);
        return query.OrderByDescending(s => s.Id).Take(Math.Clamp(limit, 1, MaxPageSize)).ToListAsync(ct);
    }

    /// <summary>A schedule's latest runs, newest fire time first.</summary>
    public Task<List<ScheduleRun>> RunsAsync(Guid scheduleId, int limit, CancellationToken ct) =>
        db.ScheduleRuns.AsNoTracking().Where(r => r.ScheduleId == scheduleId)
            .OrderByDescending(r => r.FireTime).ThenByDescending(r => r.Id).Take(limit).ToListAsync(ct);

    private IQueryable<Schedule> Scoped(Guid? tenantId) => tenantId is { } id ? db.Schedules.Where(s => s.TenantId == id) : db.Schedules;
}
