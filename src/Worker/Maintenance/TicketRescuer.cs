using Microsoft.Extensions.Logging;
using Monolith.Worker.Engine;
using Npgsql;
using Quartz;

namespace Monolith.Worker.Maintenance;

/// <summary>
/// The safety net under dispatch tickets. Every waiting job gets a share of a ticket in the transaction that makes it
/// wait, so none should ever lack one; but a ticket can be spent without claiming its jobs (one that fires a few
/// milliseconds before its jobs are due by the database's clock, when the API node's clock runs ahead; or one that
/// fired while the jobs' queue was paused). Every <see cref="Interval"/>, on one node of the cluster, this looks for
/// jobs due for longer than <see cref="Grace"/> while no ticket is due; when it finds some, it writes tickets for
/// them. Spare tickets are harmless (one that finds nothing to claim just ends).
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
               WHERE state IN ('scheduled', 'queued', 'retrying') AND scheduled_at <= now() - @grace),
              (SELECT count(*) FROM {Hosting.SchemaSetup.QuartzTablePrefix}triggers
               WHERE sched_name = @cluster AND job_name = @job AND trigger_state IN ('WAITING', 'ACQUIRED')
                 AND next_fire_time <= @nowTicks)
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

        if (staleJobs == 0 || dueTickets > 0) return; // a due ticket will claim them (and a spent one shows next round)
        var missing = (int)Math.Min(staleJobs, MaxJobsPerRound);
        await tickets.ScheduleAsync(tx, Enumerable.Repeat(DateTimeOffset.UtcNow, missing), ct);
        await tx.CommitAsync(ct);
        logger.LogWarning("{Stale} job(s) due for over {Grace} had no ticket due: wrote tickets for {Missing}", staleJobs, Grace, missing);
    }
}
