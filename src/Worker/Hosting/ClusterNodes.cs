using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Monolith.Domain.Persistence;
using Monolith.Worker.Engine;

namespace Monolith.Worker.Hosting;

/// <summary>
/// The cluster's nodes as the dashboard shows them, from Quartz's own check-in table
/// (<c>quartz.qrtz_scheduler_state</c>) and the jobs each node is running. Only nodes that run jobs (<c>worker</c>
/// and <c>all</c>) start a scheduler and check in; an <c>api</c> node never does, so it is not listed. A node that
/// holds running jobs but no longer checks in (it died; its jobs are being recovered) is listed too, without a
/// check-in.
/// </summary>
public sealed class ClusterNodes(MonolithDbContext db, IOptions<WorkerOptions> options)
{
    public async Task<List<ClusterNode>> ListAsync(CancellationToken ct)
    {
        var rows = await db.Database.SqlQueryRaw<ClusterNodeRow>($"""
            WITH checked_in AS (
                SELECT instance_name, last_checkin_time, checkin_interval
                FROM {SchemaSetup.QuartzTablePrefix}scheduler_state
                WHERE sched_name = @p0),
            running AS (
                SELECT node, count(*)::int AS jobs FROM jobs WHERE state = 'running' AND node IS NOT NULL GROUP BY node)
            SELECT coalesce(c.instance_name, r.node) AS id, c.last_checkin_time AS last_checkin_ticks,
                   c.checkin_interval AS checkin_interval_ms, coalesce(r.jobs, 0) AS running_jobs
            FROM checked_in c FULL JOIN running r ON r.node = c.instance_name
            ORDER BY 1
            """, options.Value.ClusterName).ToListAsync(ct);
        return rows.Select(r => new ClusterNode(
            r.Id,
            r.LastCheckinTicks is { } ticks ? new DateTimeOffset(ticks, TimeSpan.Zero) : null,
            r.CheckinIntervalMs is { } interval ? TimeSpan.FromMilliseconds(interval) : null,
            r.RunningJobs)).ToList();
    }

    /// <param name="LastCheckinTicks">Quartz.NET stores times as UTC <see cref="DateTime.Ticks"/> and intervals as milliseconds.</param>
    private sealed record ClusterNodeRow(string Id, long? LastCheckinTicks, long? CheckinIntervalMs, int RunningJobs);
}

/// <param name="Id">The node's instance id (<c>INSTANCE_ID</c>, <c>POD_NAME</c>, or the generated one).</param>
/// <param name="LastCheckin">Its last check-in; null when it holds running jobs but does not check in (stopped or dead).</param>
/// <param name="CheckinInterval">How often it checks in.</param>
/// <param name="RunningJobs">Jobs it is running now.</param>
public sealed record ClusterNode(string Id, DateTimeOffset? LastCheckin, TimeSpan? CheckinInterval, int RunningJobs);
