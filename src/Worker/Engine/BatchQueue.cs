using System.Threading.Channels;

namespace Monolith.Worker.Engine;

/// <summary>
/// Group commit: callers hand in items and wait; one writer loop takes whatever queued up while its previous write
/// was in flight (up to a maximum) and writes it as one batch. There is no timer: a lone item is written at once,
/// and a burst shares one transaction. Used for outcomes of attempts (<see cref="AttemptRecorder"/>) and for
/// single submissions (<see cref="SubmitCoalescer"/>).
/// </summary>
public sealed class BatchQueue<TItem, TResult>(int maxBatch)
{
    private readonly Channel<Entry> _queue = Channel.CreateUnbounded<Entry>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>One queued item; the writer completes <see cref="Done"/> with its result or an exception.</summary>
    public sealed class Entry(TItem item)
    {
        public TItem Item => item;
        public TaskCompletionSource<TResult> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>
    /// Queues <paramref name="item"/> and waits for its result. <paramref name="stopWaiting"/> only stops the wait:
    /// the item may still be written.
    /// </summary>
    public Task<TResult> EnqueueAsync(TItem item, CancellationToken stopWaiting)
    {
        var entry = new Entry(item);
        if (!_queue.Writer.TryWrite(entry)) throw new InvalidOperationException("The batch queue is closed.");
        return entry.Done.Task.WaitAsync(stopWaiting);
    }

    /// <summary>
    /// The writer loop. <paramref name="write"/> completes each entry of a batch; an exception it throws fails the
    /// entries it left open. When <paramref name="stopping"/> fires, entries not yet written are cancelled.
    /// </summary>
    public async Task RunAsync(Func<IReadOnlyList<Entry>, CancellationToken, Task> write, CancellationToken stopping)
    {
        var batch = new List<Entry>(maxBatch);
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stopping))
            {
                batch.Clear();
                while (batch.Count < maxBatch && _queue.Reader.TryRead(out var next)) batch.Add(next);
                try
                {
                    await write(batch, stopping);
                }
                catch (Exception ex) when (!stopping.IsCancellationRequested)
                {
                    foreach (var entry in batch) entry.Done.TrySetException(ex);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        foreach (var entry in batch) entry.Done.TrySetCanceled(stopping);
        while (_queue.Reader.TryRead(out var left)) left.Done.TrySetCanceled(stopping);
    }
}
