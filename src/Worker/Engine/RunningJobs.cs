using System.Collections.Concurrent;

namespace Monolith.Worker.Engine;

/// <summary>
/// The work in flight on this node: dispatch firings (from before their first claim until their last job's outcome is
/// written) and the attempts running in them, each with the one token that stops it and why it was stopped.
/// </summary>
public sealed class RunningJobs
{
    private readonly ConcurrentDictionary<Guid, Attempt> _running = new();
    private int _dispatches;

    /// <summary>Dispatch firings in flight, including those still claiming: what a graceful shutdown waits for.</summary>
    public int Dispatches => Volatile.Read(ref _dispatches);

    /// <summary>Marks a dispatch firing in flight until the result is disposed.</summary>
    public IDisposable BeginDispatch()
    {
        Interlocked.Increment(ref _dispatches);
        return new DispatchScope(this);
    }

    private sealed class DispatchScope(RunningJobs owner) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0) Interlocked.Decrement(ref owner._dispatches);
        }
    }

    public ICollection<Guid> Ids => _running.Keys;

    /// <summary>
    /// Registers an attempt for its length: its token fires on a client's cancel (<see cref="Cancel"/>), when its lease
    /// is found lost, when <paramref name="timeout"/> passes, or when <paramref name="shutdown"/> fires. Dispose the
    /// result when the attempt ends.
    /// </summary>
    public Attempt Register(Guid jobId, TimeSpan? timeout, CancellationToken shutdown)
    {
        var attempt = new Attempt(this, jobId, shutdown, timeout);
        _running[jobId] = attempt;
        return attempt;
    }

    /// <summary>Stops a job's attempt if it runs here (a client's cancel); false when it does not.</summary>
    public bool Cancel(Guid jobId) => _running.TryGetValue(jobId, out var attempt) && attempt.Stop(StopReason.Client);

    /// <summary>Why an attempt's token fired, when it was not the node's shutdown or the timeout.</summary>
    public enum StopReason { None, Client, LeaseLost }

    /// <summary>One running attempt: a single cancellation source for every reason it may be stopped.</summary>
    public sealed class Attempt : IDisposable
    {
        private readonly RunningJobs _owner;
        private readonly Guid _jobId;
        private readonly CancellationTokenSource _source;
        private int _reason;

        internal Attempt(RunningJobs owner, Guid jobId, CancellationToken shutdown, TimeSpan? timeout)
        {
            _owner = owner;
            _jobId = jobId;
            _source = CancellationTokenSource.CreateLinkedTokenSource(shutdown);
            if (timeout is { } after) _source.CancelAfter(after);
        }

        public CancellationToken Token => _source.Token;

        /// <summary>Why it was stopped: a client, a lost lease, or neither (then the node's shutdown or the timeout).</summary>
        public StopReason Reason => (StopReason)Volatile.Read(ref _reason);

        /// <summary>Stops the attempt for <paramref name="reason"/>; the first reason given is the one that counts.</summary>
        public bool Stop(StopReason reason)
        {
            Interlocked.CompareExchange(ref _reason, (int)reason, (int)StopReason.None);
            try { _source.Cancel(); } catch (ObjectDisposedException) { return false; }
            return true;
        }

        public void Dispose()
        {
            _owner._running.TryRemove(new KeyValuePair<Guid, Attempt>(_jobId, this));
            _source.Dispose();
        }
    }
}
