using Microsoft.Extensions.Options;
using Monolith.Worker.Hosting;

namespace Monolith.Worker.Engine;

/// <summary>
/// This node's execution slots: <see cref="WorkerOptions.Concurrency"/> (<c>WORKER_CONCURRENCY</c>) handlers run at
/// once, whichever dispatch firing claimed them. A firing takes slots before it claims, so it never claims a job it
/// cannot start at once; the executor gives a job's slot back as soon as its handler returns (its outcome is then
/// written in a batch, see <see cref="AttemptRecorder"/>).
/// </summary>
public sealed class JobSlots(IOptions<WorkerOptions> options)
{
    private readonly SemaphoreSlim _free = new(options.Value.Concurrency, options.Value.Concurrency);
    private volatile bool _closed;

    /// <summary>False once a graceful shutdown began: firings claim nothing more (jobs already claimed still run).</summary>
    public bool Open => !_closed;

    /// <summary>Called when the node starts shutting down.</summary>
    public void Close() => _closed = true;

    /// <summary>Waits for one free slot, then takes every other free one, up to <paramref name="max"/>.</summary>
    public async Task<int> TakeAsync(int max, CancellationToken ct)
    {
        await _free.WaitAsync(ct);
        var taken = 1;
        while (taken < max && _free.Wait(0)) taken++;
        return taken;
    }

    public void Release(int count = 1)
    {
        if (count > 0) _free.Release(count);
    }
}
