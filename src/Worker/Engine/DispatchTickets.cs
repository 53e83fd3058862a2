using System.Data.Common;
using Npgsql;
using Quartz;

namespace Monolith.Worker.Engine;

/// <summary>Writes dispatch tickets (Quartz one-off triggers of <see cref="DispatchJob"/>) inside the caller's transaction.</summary>
public sealed class DispatchTickets(ISchedulerFactory schedulers)
{
    /// <summary>The NOTIFY channel that tells idle worker nodes a ticket is due now (see Engine/EngineNotifications.cs).</summary>
    public const string WakeChannel = "monolith_wake";

    /// <summary>
    /// The most jobs one ticket stands for. Jobs submitted together share tickets of up to this many, so a batch of
    /// 1,000 costs 10 Quartz firings, not 1,000, and still spreads over up to 10 nodes.
    /// </summary>
    public const int MaxJobsPerTicket = 100;

    /// <summary>A ticket due within this wakes idle nodes at commit; later ones are found by Quartz's own scheduling.</summary>
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Schedules tickets for jobs that become due at <paramref name="dueTimes"/> (one entry per job), in
    /// <paramref name="transaction"/>: they exist exactly when the caller's rows commit. Jobs due at the same
    /// moment share tickets of up to <see cref="MaxJobsPerTicket"/>.
    /// </summary>
    public async Task ScheduleAsync(DbTransaction transaction, IEnumerable<DateTimeOffset> dueTimes, CancellationToken ct)
    {
        // A ticket fires at the due time of its jobs, never before (one that fires early claims nothing). Jobs already
        // due share one "now"; jobs submitted together share their due time.
        var now = DateTimeOffset.UtcNow;
        var wake = false;
        foreach (var group in dueTimes.GroupBy(at => at <= now ? now : at))
        {
            var count = group.Count();
            for (var taken = 0; taken < count; taken += MaxJobsPerTicket)
            {
                var ticket = new DispatchTicket(Guid.CreateVersion7(), Math.Min(MaxJobsPerTicket, count - taken));
                wake |= await AddTriggerAsync(transaction, ticket, group.Key, ct);
            }
        }
        if (wake) await WakeWorkersAsync(transaction, ct);
    }

    /// <summary>Schedules one ticket in <paramref name="transaction"/>; see the other overload.</summary>
    public async Task ScheduleAsync(DbTransaction transaction, DispatchTicket ticket, DateTimeOffset runAt, CancellationToken ct)
    {
        if (await AddTriggerAsync(transaction, ticket, runAt, ct)) await WakeWorkersAsync(transaction, ct);
    }

    /// <returns>Whether the ticket is due now.</returns>
    private async Task<bool> AddTriggerAsync(DbTransaction transaction, DispatchTicket ticket, DateTimeOffset runAt, CancellationToken ct)
    {
        // A transaction whose connection broke (the database restarted mid-request) has no connection any more, and
        // Quartz would reject it with an ArgumentException: say what happened, as the database driver would.
        if (transaction.Connection is null)
        {
            throw new NpgsqlException("The connection to the database was lost before the dispatch ticket was written; nothing was committed.",
                new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionReset));
        }
        var scheduler = await schedulers.GetScheduler(ct);
        using (scheduler.EnlistTransaction(transaction))
        {
            await scheduler.ScheduleJob<DispatchJob, DispatchTicket>(ticket, runAt, new OneOffJobOptions
            {
                // Ticket ids are fresh UUIDs written in the same transaction as their job rows, so a clash cannot
                // happen (and would roll the whole submit back). Throw, unlike Keep, lets Quartz insert without its
                // cluster-wide TRIGGER_ACCESS lock (LockOnInsert = false): submits no longer queue behind firings.
                Name = ticket.Id.ToString(),
                OnConflict = TriggerConflict.Throw,
                RequestRecovery = true,
                MisfireInstruction = SimpleTriggerMisfireInstruction.FireNow,
            }, ct);
        }
        return runAt <= DateTimeOffset.UtcNow + Soon;
    }

    /// <summary>A NOTIFY is delivered when the transaction commits, so nodes wake only for tickets that exist.</summary>
    private static async Task WakeWorkersAsync(DbTransaction transaction, CancellationToken ct)
    {
        await using var notify = new NpgsqlCommand($"SELECT pg_notify('{WakeChannel}', '')",
            (NpgsqlConnection)transaction.Connection!, (NpgsqlTransaction)transaction);
        await notify.ExecuteNonQueryAsync(ct);
    }
}
