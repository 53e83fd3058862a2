using Microsoft.Extensions.Logging;
using Monolith.Worker.Engine;
using Npgsql;
using Quartz;

namespace Monolith.Worker.Maintenance;

/// <summary>
/// The safety net under wake-ups and dispatch tickets. Jobs due now are reached by a NOTIFY at the commit that made them
/// waiting, jobs due later by a ticket at their due time; a wake-up can still be missed (a worker's listening connection
/// was down at that moment) and a ticket can be spent without a claim (it fires a few milliseconds before its jobs are
/// due by the database's clock, when the API node's clock runs ahead). Every <see cref="Interval"/>, on one node of the
/// cluster, this looks for jobs due for longer than <see cref="Grace"/> (in queues that are not paused) while no ticket
/// is due or firing; when it finds some, it wakes every worker node's claim loop (<see cref="DispatchTickets"/>).
/// Under a backlog larger than the cluster's slots that is a wake-up every round, which costs a claim per node with room.
/// </summary>
[DisallowConcurrentExecution]
public sealed class TicketRescuer(NpgsqlDataSource dataSource, DispatchTickets tickets, ILogger<TicketRescuer> logger) : IJob
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(10);

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

        // A ticket that is due, or firing now, wakes the claim loops itself; once every ticket is spent, the next round sees it.
        if (staleJobs == 0 || dueTickets > 0) return;
        await tickets.ScheduleAsync(tx, [DateTimeOffset.UtcNow], ct);
        await tx.CommitAsync(ct);
        logger.LogDebug("{Stale} job(s) due for over {Grace} and no ticket due: woke the worker nodes", staleJobs, Grace);
    }
}
