using Microsoft.Extensions.DependencyInjection;
using Monolith.Domain.Jobs;
using Monolith.Worker.Hosting;
using Quartz;

namespace Monolith.Worker.Engine;

/// <summary>
/// The one Quartz job: the seam between "a Quartz firing" and "jobs of ours". Quartz gives it a
/// <see cref="DispatchTicket"/> on some node of the cluster; it claims due jobs from our table and runs them.
/// <list type="bullet">
/// <item>Jobs this ticket claimed before (its node died or shut down mid-run, and Quartz's recovery re-fired it
/// here) are taken back first, under new leases that fence the old node out.</item>
/// <item>Then it claims the best due jobs, up to the ticket's count.</item>
/// </list>
/// Failures to reach the database propagate, and Quartz's retry policy fires the ticket again later, so a
/// ticket is never spent without its jobs being claimed.
/// </summary>
[RetryPolicy(1000, "00:00:01", 2, MaxDelay = "00:00:30", Jitter = 0.2)]
public sealed class DispatchJob(
    IServiceScopeFactory scopes, QueueSelector queues, NodeIdentity node, JobExecutor executor, RunningJobs running)
    : IJob<DispatchTicket>
{
    public async ValueTask Execute(IJobExecutionContext context, DispatchTicket ticket, CancellationToken ct)
    {
        using var inFlight = running.BeginDispatch(); // a graceful shutdown waits for this firing, claim included
        List<Job> claimed;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var store = scope.ServiceProvider.GetRequiredService<JobStore>();
            // Only a re-fired ticket (Quartz recovery after a crash or shutdown, or its retry policy after a failed
            // claim) can have jobs of its own already: a fresh one skips the look-up.
            claimed = context.Recovering || context.RetryAttempt > 0
                ? await store.ReclaimAsync(ticket.Id, node.Id, ct)
                : [];
            if (claimed.Count < ticket.Count)
            {
                claimed.AddRange(await store.ClaimAsync(ticket.Id, node.Id, queues.NextOrder(), ticket.Count - claimed.Count, ct));
            }
        }

        foreach (var job in claimed)
        {
            await executor.RunAsync(job, ct);
        }
    }
}
