using System.Data.Common;
using Npgsql;
using Quartz;

namespace Monolith.Worker.Engine;

/// <summary>
/// Makes jobs that became waiting reachable, inside the caller's transaction. Jobs due now need no Quartz trigger: a
/// <c>NOTIFY</c> on <see cref="WakeChannel"/>, delivered when the transaction commits, wakes every worker node's claim
/// loop (<see cref="NodeDispatcher"/>). Jobs due later get dispatch tickets (Quartz one-off triggers of
/// <see cref="DispatchJob"/>) at their due time: Quartz fires what is due later. <see cref="Maintenance.TicketRescuer"/>
/// is the net under both.
/// </summary>
public sealed class DispatchTickets(ISchedulerFactory schedulers)
{
    /// <summary>The NOTIFY channel that tells worker nodes jobs are due now (see Engine/EngineNotifications.cs).</summary>
    public const string WakeChannel = "monolith_wake";

    /// <summary>
    /// The most jobs one ticket stands for. Jobs due at the same later moment share tickets of up to this many, so a
    /// batch of 1,000 delayed jobs costs 10 Quartz firings, not 1,000.
    /// </summary>
    public const int MaxJobsPerTicket = 100;

    /// <summary>A ticket due within this wakes the worker nodes at commit too (it may fire before they would look).</summary>
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Makes jobs that become due at <paramref name="dueTimes"/> (one entry per job) reachable, in
    /// <paramref name="transaction"/>: a wake-up at commit for those due now, tickets for those due later, so they exist
    /// exactly when the caller's rows commit. Jobs due at the same later moment share tickets of up to
    /// <see cref="MaxJobsPerTicket"/>.
    /// </summary>
    public async Task ScheduleAsync(DbTransaction transaction, IEnumerable<DateTimeOffset> dueTimes, CancellationToken ct)
    {
        var now = DateTimeOffset.UtcNow;
        var wake = false;
        foreach (var group in dueTimes.GroupBy(at => at <= now ? now : at))
        {
            if (group.Key == now)
            {
                wake = true;
                continue;
            }
            var count = group.Count();
            for (var taken = 0; taken < count; taken += MaxJobsPerTicket)
            {
                var ticket = new DispatchTicket(Guid.CreateVersion7(), Math.Min(MaxJobsPerTicket, count - taken));
                wake |= await AddTriggerAsync(transaction, ticket, group.Key, ct);
            }
        }
        if (wake) await WakeWorkersAsync(transaction, ct);
    }

    /// <returns>Whether the ticket is due now.</returns>
    private async Task<bool> AddTriggerAsync(DbTransaction transaction, DispatchTicket ticket, DateTimeOffset runAt, CancellationToken ct)
    {
        EnsureConnected(transaction);
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

    /// <summary>
    /// A transaction whose connection broke (the database restarted mid-request) has no connection any more, and Quartz
    /// would reject it with an ArgumentException: say what happened, as the database driver would.
    /// </summary>
    private static void EnsureConnected(DbTransaction transaction)
    {
        if (transaction.Connection is null)
        {
            throw new NpgsqlException("The connection to the database was lost before the jobs were made reachable; nothing was committed.",
                new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionReset));
        }
    }

    /// <summary>A NOTIFY is delivered when the transaction commits, so nodes wake only for jobs that exist.</summary>
    private static async Task WakeWorkersAsync(DbTransaction transaction, CancellationToken ct)
    {
        EnsureConnected(transaction);
        await using var notify = new NpgsqlCommand($"SELECT pg_notify('{WakeChannel}', '')",
            (NpgsqlConnection)transaction.Connection!, (NpgsqlTransaction)transaction);
        await notify.ExecuteNonQueryAsync(ct);
    }
}
