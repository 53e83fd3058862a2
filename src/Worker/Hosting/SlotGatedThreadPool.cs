using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Monolith.Worker.Engine;
using Quartz.Extensibility;
using Quartz.Impl;

namespace Monolith.Worker.Hosting;

/// <summary>
/// Quartz's own task pool, with one change: Quartz asks a pool how many firings it can start before it takes
/// tickets from the cluster, and this one answers only once the node has a free job slot (<see cref="JobSlots"/>).
/// So a node whose slots are all busy takes no tickets, and they go to nodes that can run their jobs now.
/// </summary>
public sealed class SlotGatedThreadPool : IThreadPool
{
    private readonly TaskPool _inner;
    private readonly JobSlots _slots;

    public SlotGatedThreadPool(JobSlots slots, IOptions<WorkerOptions> options, ILogger<TaskSchedulingThreadPool> logger)
    {
        _slots = slots;
        _inner = new TaskPool(options.Value.Concurrency, logger);
    }

    /// <summary>What Quartz's <c>DefaultThreadPool</c> is (a sealed class): firings as tasks on the .NET thread pool.</summary>
    private sealed class TaskPool(int maxConcurrency, ILogger<TaskSchedulingThreadPool> logger)
        : TaskSchedulingThreadPool(maxConcurrency, logger)
    {
        protected override TaskScheduler GetDefaultScheduler() => TaskScheduler.Default;
    }

    public int PoolSize => _inner.PoolSize;

    public ValueTask Initialize(CancellationToken cancellationToken = default) => _inner.Initialize(cancellationToken);

    public async ValueTask<int> WaitForAvailableThreads(CancellationToken cancellationToken = default)
    {
        var threads = await _inner.WaitForAvailableThreads(cancellationToken);
        await _slots.WaitForFreeAsync(cancellationToken);
        return Math.Clamp(_slots.Free, 1, threads);
    }

    public ValueTask<bool> TryRun(Func<ValueTask> action, CancellationToken cancellationToken = default) =>
        _inner.TryRun(action, cancellationToken);

    public ValueTask<bool> TryRunWithState(Func<object?, ValueTask> action, object? state, CancellationToken cancellationToken = default) =>
        _inner.TryRunWithState(action, state, cancellationToken);

    public ValueTask Shutdown(bool waitForJobsToComplete = true, CancellationToken cancellationToken = default) =>
        _inner.Shutdown(waitForJobsToComplete, cancellationToken);

    public ValueTask<bool> Drain(CancellationToken cancellationToken = default) => _inner.Drain(cancellationToken);
}
