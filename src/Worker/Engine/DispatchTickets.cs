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
    /// Schedules a ticket in <paramref name="transaction"/>: it exists exactly when the caller's rows commit.
    /// When the ticket is due now, worker nodes are also woken at commit (a NOTIFY is delivered on commit),
    /// instead of finding it at their next poll.
    /// </summary>
    public async Task ScheduleAsync(DbTransaction transaction, DispatchTicket ticket, DateTimeOffset runAt, CancellationToken ct)
    {
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

        if (runAt <= DateTimeOffset.UtcNow.AddSeconds(1))
        {
            await using var notify = new NpgsqlCommand($"SELECT pg_notify('{WakeChannel}', '')",
                (NpgsqlConnection)transaction.Connection!, (NpgsqlTransaction)transaction);
            await notify.ExecuteNonQueryAsync(ct);
        }
    }
}
