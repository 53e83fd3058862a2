using Microsoft.Extensions.Logging;
using Monolith.Worker.Engine;
using Npgsql;
using Quartz;

namespace Monolith.Worker.Maintenance;

/// <summary>
/// The safety net under dispatch tickets. Every waiting job gets a share of a ticket in the transaction that makes it
/// wait, so none should ever lack one; but a ticket can be spent without claiming its jobs (one that fires a few
/// milliseconds before its jobs are due by the database's clock, when the API node's clock runs ahead). Every
/// <see cref="Interval"/>, on one node of the cluster, this looks for jobs due for longer than <see cref="Grace"/>
/// (in queues that are not paused) while no ticket is due or firing; when it finds some, it writes tickets for them.
/// Spare tickets are harmless (one that finds nothing to claim just ends).
/// </summary>
[DisallowConcurrentExecution]
public sealed class TicketRescuer(NpgsqlDataSource dataSource, DispatchTickets tickets, ILogger<TicketRescuer> logger) : IJob
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(10);
    /// <summary>The most jobs one round writes tickets for.</summary>
    public const int MaxJobsPerRound = 10_000;

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await using var count = new NpgsqlCommand($"""
            SELECT
              (SELECT count(*) FROM jobs
               WHERE state IN ('scheduled', 'queued', 'retrying') AND scheduled_at <= now() - @grace
                 AND queue NOT IN (SELECT queue FROM queue_pauses)),
              (SELECT count(*) FROM {Hosting.SchemaSetup.QuartzTablePrefix}triggers
               WHERE sched_name = @cluster AND job_name = @job AND trigger_state IN ('WAITING', 'ACQUIRED')
                 AND next_fire_time <= @nowTicks)
              + (SELECT count(*) FROM {Hosting.SchemaSetup.QuartzTablePrefix}fired_triggers
                 WHERE sched_name = @cluster AND job_name = @job)
            """, connection, tx);
        count.Parameters.AddWithValue("grace", Grace);
        count.Parameters.AddWithValue("cluster", context.Scheduler.SchedulerName);
        count.Parameters.AddWithValue("job", nameof(DispatchJob));
        count.Parameters.AddWithValue("nowTicks", DateTimeOffset.UtcNow.UtcTicks);
        long staleJobs, dueTickets;
        await using (var reader = await count.ExecuteReaderAsync(ct))
        {
            await reader.ReadAsync(ct);
            (staleJobs, dueTickets) = (reader.GetInt64(0), reader.GetInt64(1));
        }

        // A ticket that is due, or firing now (it keeps claiming while it has count left), will take them; once every
        // ticket is spent, the next round sees it.
        if (staleJobs == 0 || dueTickets > 0) return;
        var missing = (int)Math.Min(staleJobs, MaxJobsPerRound);
        await tickets.ScheduleAsync(tx, Enumerable.Repeat(DateTimeOffset.UtcNow, missing), ct);
        await tx.CommitAsync(ct);
        logger.LogWarning("{Stale} job(s) due for over {Grace} had no ticket due: wrote tickets for {Missing}", staleJobs, Grace, missing);
    }
}
