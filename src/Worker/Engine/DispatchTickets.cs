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
                Name = ticket.Id.ToString(),
                OnConflict = TriggerConflict.Keep,
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
