using Npgsql;
using Quartz;

namespace Monolith.Worker.Engine;

/// <summary>
/// A dispatch ticket's firing (<see cref="DispatchTicket"/>): Quartz's part in work that is due later (a delayed job, a
/// retry's backoff) and the safety net under the <c>NOTIFY</c> wake-ups. Jobs are claimed by the node's standing firing
/// (<see cref="NodeDispatcher"/>), not here: a ticket that fires wakes this node's claim loop when it has room, and
/// otherwise wakes every worker node's (<c>NOTIFY</c>), so a node with free slots claims the jobs at once.
/// A ticket recovered by Quartz (a firing from before standing firings claimed everything, whose node died) first takes
/// back the jobs it had claimed (<see cref="FiringRecovery"/>).
/// </summary>
[RetryPolicy(1000, "00:00:01", 2, MaxDelay = "00:00:30", Jitter = 0.2)]
public sealed class DispatchJob(FiringRecovery recovery, NodeDispatcher dispatcher, JobSlots slots, RunningJobs running, NpgsqlDataSource dataSource)
    : IJob<DispatchTicket>
{
    public async ValueTask Execute(IJobExecutionContext context, DispatchTicket ticket, CancellationToken ct)
    {
        if (context.Recovering)
        {
            using var inFlight = running.BeginDispatch();
            await recovery.RunAsync(ticket.Id, ct);
        }
        if (dispatcher.IsRunning && slots.Open && slots.Room > 0)
        {
            dispatcher.Wake();
            return;
        }
        await using var notify = dataSource.CreateCommand($"SELECT pg_notify('{DispatchTickets.WakeChannel}', '')");
        await notify.ExecuteNonQueryAsync(ct);
    }
}
