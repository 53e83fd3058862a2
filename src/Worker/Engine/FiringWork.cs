namespace Monolith.Worker.Engine;

/// <summary>
/// The jobs one dispatch firing (the node's standing firing, or a recovered one) has in flight: Quartz must not forget
/// the firing while any of them still runs, waits in the node's buffer, or waits for its outcome to be written, since
/// the firing's recovery is what re-runs them if the node dies. <see cref="WhenDoneAsync"/> completes when the firing
/// has stopped taking jobs and every job it took is settled.
/// </summary>
public sealed class FiringWork(CancellationToken stopping)
{
    private int _outstanding = 1; // the firing's own hold, released by WhenDoneAsync
    private Exception? _failure;
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Fires when the node stops the firing (Quartz's shutdown): running handlers are cancelled and handed back.</summary>
    public CancellationToken Stopping => stopping;

    /// <summary>Counts <paramref name="count"/> more jobs taken by the firing.</summary>
    public void Add(int count) => Interlocked.Add(ref _outstanding, count);

    /// <summary>
    /// One job is settled: its outcome written (or fenced out), or handed back. A <paramref name="failure"/> (a shutdown
    /// handing the job back, an outcome that could not be stored) becomes the firing's exception, so Quartz hands the
    /// firing back and its recovery re-runs the job.
    /// </summary>
    public void Settled(Exception? failure = null)
    {
        if (failure is not null) Interlocked.CompareExchange(ref _failure, failure, null);
        if (Interlocked.Decrement(ref _outstanding) == 0) _done.TrySetResult();
    }

    /// <summary>Settles the job when <paramref name="outcome"/> (its outcome's write) completes.</summary>
    public void Track(Task outcome)
    {
        if (outcome.IsCompleted) Settled(outcome.Exception?.InnerException ?? (outcome.IsCanceled ? new OperationCanceledException() : null));
        else outcome.ContinueWith(static (t, state) => ((FiringWork)state!).Settled(
            t.Exception?.InnerException ?? (t.IsCanceled ? new OperationCanceledException() : null)), this, TaskScheduler.Default);
    }

    /// <summary>Stops counting new jobs and waits until every job taken is settled; throws the first failure.</summary>
    public async Task WhenDoneAsync()
    {
        Settled();
        await _done.Task;
        if (Volatile.Read(ref _failure) is { } failure) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
    }
}
