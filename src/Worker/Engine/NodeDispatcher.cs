using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Monolith.Domain.Jobs;
using Npgsql;

namespace Monolith.Worker.Engine;

/// <summary>
/// How work reaches a worker node that is already running: the claim loop of the node's standing dispatch firing
/// (<see cref="StandingDispatchJob"/>). It claims due jobs straight into the node's <see cref="JobSlots"/> whenever
/// something may be due: a <c>NOTIFY</c> from a submit on any node (<see cref="EngineNotifications"/>), a dispatch
/// ticket firing here (work due later, or the safety net), the firing's start, a rate window reopening; and whenever the
/// slots have room while the last claim came back full (a backlog). A wake-up costs one statement (<see cref="JobClaims"/>),
/// not a Quartz acquire and fire. Every job it claims carries its firing's id, so if this node dies Quartz's recovery of
/// that firing takes them back (<see cref="FiringRecovery"/>); and every claim is fenced on the firing still being live
/// in Quartz, so a node that was presumed dead and comes back claims nothing more under a firing Quartz recovered.
/// </summary>
public sealed class NodeDispatcher(
    JobClaims claims,
    JobSlots slots,
    QueueSelector queues,
    NodeIdentity node,
    IServiceScopeFactory scopes,
    IOptions<WorkerOptions> options,
    ILogger<NodeDispatcher> logger)
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);
    private readonly SemaphoreSlim _signal = new(0, 1);
    private readonly ClaimCaps? _caps = options.Value.Caps() is { IsEmpty: false } caps ? caps : null;
    private readonly string _cluster = options.Value.ClusterName;
    private readonly int _tenantCap = Math.Max(0, options.Value.TenantConcurrency);
    private volatile bool _wanted = true;
    private volatile bool _drained;
    private int _running;

    /// <summary>True while this node's standing firing runs its claim loop.</summary>
    public bool IsRunning => Volatile.Read(ref _running) == 1;

    /// <summary>Something may be due now: the loop claims as soon as the node has room.</summary>
    public void Wake()
    {
        _wanted = true;
        Signal();
    }

    private void Signal()
    {
        if (_signal.CurrentCount > 0) return;
        try { _signal.Release(); } catch (SemaphoreFullException) { }
    }

    /// <summary>Whether the slots want more now: a slot idle with nothing buffered, or the buffer half spent.</summary>
    private bool Hungry(int room) => room > 0 && (slots.InHand < slots.Concurrency || room >= slots.Capacity / 2);

    /// <summary>
    /// Whether a cap (a tenant's, a queue's or a type's) may hold due jobs back: a claim that came back short then does not
    /// mean that nothing is due, and a job that ends frees a place one of them may take.
    /// </summary>
    private bool Capped => _tenantCap > 0 || _caps is not null;

    private void OnFreed()
    {
        if (Capped) _wanted = true;
        if ((_wanted || !_drained) && Hungry(slots.Room)) Signal();
    }

    /// <summary>
    /// The claim loop, for the life of the standing firing: returns when the node stops (its slots closed or
    /// <paramref name="stopping"/> fired), or true at once when the claim fence says Quartz recovered this firing
    /// elsewhere (the node then needs a new standing firing). A second standing firing on the same node returns false at
    /// once without claiming (there is one loop per node).
    /// </summary>
    public async Task<bool> RunAsync(Guid firingId, string fireInstanceId, FiringWork work, CancellationToken stopping)
    {
        if (Interlocked.CompareExchange(ref _running, 1, 0) != 0)
        {
            logger.LogWarning("A standing dispatch firing already runs on this node; this one ends");
            return false;
        }
        slots.Freed = OnFreed;
        if (Capped) slots.OutcomeWritten = Wake; // a capped place is free once the ended job's outcome is written
        _wanted = true;
        logger.LogInformation("Standing dispatch firing {FiringId} started: claiming on wake-ups, {Concurrency} slot(s)", firingId, slots.Concurrency);
        var backoff = TimeSpan.FromMilliseconds(250);
        try
        {
            while (!stopping.IsCancellationRequested && slots.Open)
            {
                var room = slots.Room;
                if (room <= 0 || !(_wanted || (!_drained && Hungry(room))))
                {
                    await _signal.WaitAsync(stopping);
                    continue;
                }
                _wanted = false;
                List<Job> claimed;
                try
                {
                    claimed = await ClaimAsync(firingId, fireInstanceId, room, stopping);
                    backoff = TimeSpan.FromMilliseconds(250);
                }
                catch (PostgresException ex) when (ex.SqlState == JobClaims.FiringNotLive)
                {
                    logger.LogWarning("Quartz recovered this node's standing dispatch firing elsewhere (the node was taken for dead): it claims nothing more");
                    return true;
                }
                catch (Exception ex) when (!stopping.IsCancellationRequested)
                {
                    logger.LogWarning(ex, "Could not claim jobs; trying again in {Backoff}", backoff);
                    _wanted = true;
                    await Task.Delay(backoff, stopping);
                    backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
                    continue;
                }
                _drained = claimed.Count < room;
                if (!slots.TryAdd(claimed, work))
                {
                    await claims.HandBackAsync(claimed, attemptUsed: false, DispatchTickets.WakeChannel, CancellationToken.None);
                }
            }
            return false;
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            return false;
        }
        finally
        {
            slots.Freed = null;
            slots.OutcomeWritten = null;
            Volatile.Write(ref _running, 0);
        }
    }

    private async Task<List<Job>> ClaimAsync(Guid firingId, string fireInstanceId, int limit, CancellationToken ct)
    {
        if (_caps is null)
        {
            // A random starting tenant: over many claims every tenant is as likely as any other to come first.
            return await claims.ClaimAsync(queues.NextOrder(), limit, node.Id, firingId, _cluster, fireInstanceId, Guid.NewGuid(), _tenantCap, ct);
        }
        await using var scope = scopes.CreateAsyncScope();
        var capped = await scope.ServiceProvider.GetRequiredService<JobStore>()
            .ClaimCappedAsync(firingId, node.Id, queues.NextOrder(), limit, _caps, ct, (_cluster, fireInstanceId));
        if (capped.RateLimitedUntil is { } until)
        {
            // A type's rate held jobs back: claim again when its window has passed.
            _ = Task.Delay(Max(until - DateTimeOffset.UtcNow, TimeSpan.Zero), CancellationToken.None).ContinueWith(_ => Wake(), TaskScheduler.Default);
        }
        return capped.Claimed;
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
