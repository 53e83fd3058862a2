using Microsoft.EntityFrameworkCore;
using Monolith.Domain.Persistence;

namespace Monolith.Domain.Schedules;

/// <summary>
/// Deletes schedule runs whose fire time is older than a cutoff (retention: a per-second schedule writes 86,400 a
/// day). Each schedule keeps its latest run with a job whatever its age: the overlap policy reads it to tell whether
/// the previous run is still waiting or running. A run younger than the cutoff is never deleted, so a firing that
/// Quartz repeats after a node died (seconds to minutes later) still finds its run by the unique key. One schedule at
/// a time, through the unique index on (schedule_id, fire_time), in batches of one short transaction each.
/// </summary>
public sealed class ScheduleRunPruning(MonolithDbContext db)
{
    public async Task<long> DeleteFiredBeforeAsync(DateTimeOffset cutoff, int batch, CancellationToken ct)
    {
        var schedules = await db.Schedules.AsNoTracking().Select(s => s.Id).ToListAsync(ct); // a run goes with its schedule
        long total = 0;
        foreach (var scheduleId in schedules)
        {
            while (!ct.IsCancellationRequested)
            {
                var deleted = await db.Database.ExecuteSqlAsync($"""
                    DELETE FROM schedule_runs WHERE ctid IN (
                        SELECT r.ctid FROM schedule_runs r
                        WHERE r.schedule_id = {scheduleId} AND r.fire_time < {cutoff}
                          AND r.id IS DISTINCT FROM (
                              SELECT k.id FROM schedule_runs k WHERE k.schedule_id = {scheduleId} AND k.job_id IS NOT NULL
                              ORDER BY k.fire_time DESC LIMIT 1)
                        ORDER BY r.fire_time LIMIT {batch}
                        FOR UPDATE SKIP LOCKED)
                    """, ct);
                total += deleted;
                if (deleted < batch) break;
            }
        }
        return total;
    }
}
