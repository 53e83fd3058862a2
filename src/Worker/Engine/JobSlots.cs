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
    private readonly SemaphoreSlim _turn = new(1, 1);
    private volatile bool _closed;

    /// <summary>False once a graceful shutdown began: firings claim nothing more (jobs already claimed still run).</summary>
    public bool Open => !_closed;

    /// <summary>Called when the node starts shutting down.</summary>
    public void Close() => _closed = true;

    /// <summary>Slots free now.</summary>
    public int Free => _free.CurrentCount;

    /// <summary>Waits until at least one slot is free, without taking it (Quartz asks before it takes a ticket).</summary>
    public async Task WaitForFreeAsync(CancellationToken ct)
    {
        await _free.WaitAsync(ct);
        _free.Release();
    }

    /// <summary>
    /// One claim on this node: waits for its turn (one claim at a time per node, so free slots are claimed together
    /// rather than one by one by competing firings) and for a free slot, takes every free slot up to
    /// <paramref name="max"/>, and runs <paramref name="claim"/> with that number. Slots it did not fill are given
    /// back; the filled ones are given back by the executor as each job's handler returns.
    /// </summary>
    /// <returns>What <paramref name="claim"/> returned (at most the number it was given), or null when no slot
    /// came free within <paramref name="wait"/>: this node is full, so the caller passes its work on.</returns>
    public async Task<List<T>?> ClaimAsync<T>(int max, TimeSpan wait, Func<int, Task<List<T>>> claim, CancellationToken ct)
    {
        await _turn.WaitAsync(ct);
        try
        {
            if (!await _free.WaitAsync(wait, ct)) return null;
            var taken = 1;
            while (taken < max && _free.Wait(0)) taken++;
            List<T> claimed = [];
            try
            {
                claimed = await claim(taken);
                return claimed;
            }
            finally
            {
                Release(taken - claimed.Count);
            }
        }
        finally
        {
            _turn.Release();
        }
    }

    /// <summary>Waits for one free slot (for a job taken back by a recovered ticket).</summary>
    public Task TakeOneAsync(CancellationToken ct) => _free.WaitAsync(ct);

    public void Release(int count = 1)
    {
        if (count > 0) _free.Release(count);
    }
}
