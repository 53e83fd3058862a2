using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Monolith.Domain.Jobs;
using Monolith.Worker.Hosting;
using Quartz;

namespace Monolith.Worker.Engine;

/// <summary>
/// The one Quartz job: the seam between "a Quartz firing" and "jobs of ours". Quartz gives it a
/// <see cref="DispatchTicket"/> on some node of the cluster, worth up to <see cref="DispatchTicket.Count"/> jobs:
/// <list type="number">
/// <item>Jobs this ticket claimed before (its node died or shut down mid-run, and Quartz's recovery re-fired it
/// here) are taken back first, under new leases that fence the old node out.</item>
/// <item>Then, as the node's <see cref="JobSlots"/> free up, it claims the best due jobs, as many per statement as
/// there are free slots, and starts each at once, until it has taken its count or nothing more is due.</item>
/// <item>It ends when every job it started has ended and its outcome is written: until then Quartz keeps the
/// firing, and re-fires it elsewhere if this node dies (<c>RequestRecovery</c>).</item>
/// </list>
/// Failures to reach the database propagate, and Quartz's retry policy fires the ticket again later, so a
/// ticket is never spent without its jobs being claimed. A node that is full (no slot came free within
/// <see cref="SlotWait"/>) or starts shutting down claims nothing more and passes the unspent part of the ticket on
/// as a new ticket, so jobs never wait on a busy node while another has free slots.
/// </summary>
[RetryPolicy(1000, "00:00:01", 2, MaxDelay = "00:00:30", Jitter = 0.2)]
public sealed class DispatchJob(
    IServiceScopeFactory scopes, QueueSelector queues, NodeIdentity node, JobExecutor executor, JobSlots slots,
    RunningJobs running, DispatchTickets tickets, IOptions<WorkerOptions> options, ILogger<DispatchJob> logger)
    : IJob<DispatchTicket>
{
    private readonly ClaimCaps? _caps = options.Value.Caps() is { IsEmpty: false } caps ? caps : null;

    /// <summary>
    /// How long a firing waits for one of this node's slots to come free before it passes the rest of its ticket on.
    /// Short jobs free slots within milliseconds, so a firing goes on claiming here; behind long jobs, the rest of
    /// the ticket moves to a node with free slots (only such nodes take tickets: <see cref="Hosting.SlotGatedThreadPool"/>).
    /// </summary>
    public static readonly TimeSpan SlotWait = TimeSpan.FromMilliseconds(100);

    public async ValueTask Execute(IJobExecutionContext context, DispatchTicket ticket, CancellationToken ct)
    {
        using var inFlight = running.BeginDispatch(); // a graceful shutdown waits for this firing, claim included
        var started = new List<Task>();
        try
        {
            var remaining = ticket.Count;
            // Only a re-fired ticket (Quartz recovery after a crash or shutdown, or its retry policy after a failed
            // claim) can have jobs of its own already: a fresh one skips the look-up.
            if (context.Recovering || context.RetryAttempt > 0)
            {
                foreach (var job in await WithStoreAsync(store => store.ReclaimAsync(ticket.Id, node.Id, ct)))
                {
                    await slots.TakeOneAsync(ct);
                    started.Add(Task.Run(() => executor.RunAsync(job, ct), CancellationToken.None));
                    remaining--;
                }
            }

            var drained = false;
            DateTimeOffset? rateLimitedUntil = null;
            while (remaining > 0 && slots.Open && !drained)
            {
                var free = 0;
                var claimed = await slots.ClaimAsync(remaining, SlotWait, limit =>
                {
                    free = limit;
                    if (_caps is null) return WithStoreAsync(store => store.ClaimAsync(ticket.Id, node.Id, queues.NextOrder(), limit, ct));
                    return WithStoreAsync(async store =>
                    {
                        var capped = await store.ClaimCappedAsync(ticket.Id, node.Id, queues.NextOrder(), limit, _caps, ct);
                        rateLimitedUntil = capped.RateLimitedUntil ?? rateLimitedUntil;
                        return capped.Claimed;
                    });
                }, ct);
                if (claimed is null) break; // this node stayed full: the rest of the ticket goes to a node with free slots
                foreach (var job in claimed)
                {
                    started.Add(Task.Run(() => executor.RunAsync(job, ct), CancellationToken.None));
                }
                remaining -= claimed.Count;
                drained = claimed.Count < free; // nothing more is due
            }

            if (remaining > 0 && !drained)
            {
                await PassOnAsync(remaining, ct);
            }
            else if (remaining > 0 && rateLimitedUntil is { } until)
            {
                // A rate held jobs back: the rest of the ticket fires when the type's window has passed.
                await PassOnAsync(remaining, ct, until);
            }
        }
        finally
        {
            // Never let Quartz forget the firing while a job it claimed still runs or waits for its outcome to be
            // written. An exception from any of them (a shutdown's hand-back) is the firing's exception.
            await Task.WhenAll(started);
        }
    }

    private async Task<T> WithStoreAsync<T>(Func<JobStore, Task<T>> action)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await action(scope.ServiceProvider.GetRequiredService<JobStore>());
    }

    /// <summary>A node that is full or stopping writes the unspent part of its ticket as a new one, due now, for another node.</summary>
    private async Task PassOnAsync(int remaining, CancellationToken ct, DateTimeOffset? at = null)
    {
        await using var scope = scopes.CreateAsyncScope();
        var store = scope.ServiceProvider.GetRequiredService<JobStore>();
        await using var tx = await store.Db.Database.BeginTransactionAsync(ct);
        await tickets.ScheduleAsync(tx.GetDbTransaction(), new DispatchTicket(Guid.CreateVersion7(), remaining), at ?? DateTimeOffset.UtcNow, ct);
        await tx.CommitAsync(ct);
        if (slots.Open) logger.LogDebug("No slot came free here: passed {Remaining} unclaimed job(s) of this ticket on", remaining);
        else logger.LogInformation("Shutting down: passed {Remaining} unclaimed job(s) of this ticket on to another node", remaining);
    }
}
