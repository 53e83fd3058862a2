using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Monolith.Domain.Jobs;

namespace Monolith.Worker.Engine;

/// <summary>
/// What a recovered dispatch firing does, on whichever node Quartz re-fired it (its own node died, froze past the
/// check-in bound, or shut down without finishing): take back the jobs the firing had claimed (running or still in
/// that node's buffer) under new leases that fence the old node out, each with a 'lost' attempt record
/// (<see cref="JobStore.ReclaimAsync"/>), run them here, and end once their outcomes are written.
/// </summary>
public sealed class FiringRecovery(IServiceScopeFactory scopes, JobSlots slots, JobClaims claims, NodeIdentity node, ILogger<FiringRecovery> logger)
{
    public async Task RunAsync(Guid firingId, CancellationToken stopping)
    {
        List<Job> jobs;
        await using (var scope = scopes.CreateAsyncScope())
        {
            jobs = await scope.ServiceProvider.GetRequiredService<JobStore>().ReclaimAsync(firingId, node.Id, stopping);
        }
        if (jobs.Count == 0) return;
        logger.LogInformation("Took back {Count} job(s) of dispatch firing {FiringId}, whose node stopped before they finished", jobs.Count, firingId);
        var work = new FiringWork(stopping);
        if (!slots.TryAdd(jobs, work))
        {
            // This node is stopping too: give them back to the cluster at once, the lost attempt counted.
            await claims.HandBackAsync(jobs, attemptUsed: true, DispatchTickets.WakeChannel, CancellationToken.None);
            return;
        }
        await work.WhenDoneAsync();
    }
}
