using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Monolith.Domain.Jobs;

namespace Monolith.Worker.Engine;

/// <summary>
/// This node's clients waiting on jobs (<c>GET /v1/jobs/{id}?wait=</c>, <c>GET /v1/jobs/{id}/events</c>), by job
/// id. <see cref="EngineNotifications"/> hears <see cref="JobChanges"/> on the node's one LISTEN connection and
/// wakes the waiters of the jobs named; nobody opens a connection per waiter. A waiter subscribes before it reads
/// the job, reads it again after every wake-up, and also checks it every <see cref="Recheck"/> by itself (a cheap
/// read of the row's version, <see cref="JobQueries.VersionAsync"/>, then the job only if that changed), so a
/// notification lost while the connection was down, or a change that sends none (a claim), delays it by at most that.
/// How many may wait at once is the API's to cap (<c>Jobs:MaxWaiters</c>, <c>Jobs:MaxWaitersPerTenant</c>).
/// </summary>
public sealed class JobWaiters(IOptions<WorkerOptions> options)
{
    /// <summary>The longest a waiter goes without reading its job again, notification or not (<see cref="WorkerOptions.WaiterRecheckSeconds"/>).</summary>
    public TimeSpan Recheck { get; } = TimeSpan.FromSeconds(Math.Max(0.05, options.Value.WaiterRecheckSeconds));

    private readonly Dictionary<Guid, List<Waiter>> _waiters = [];
    private readonly Lock _gate = new();

    /// <summary>Waiters registered now.</summary>
    public int Count
    {
        get { lock (_gate) return _waiters.Values.Sum(w => w.Count); }
    }

    /// <summary>Starts listening for changes of <paramref name="jobId"/>; dispose the result to stop.</summary>
    public Waiter Watch(Guid jobId)
    {
        var waiter = new Waiter(this, jobId, Recheck);
        lock (_gate)
        {
            if (!_waiters.TryGetValue(jobId, out var list)) _waiters[jobId] = list = [];
            list.Add(waiter);
        }
        return waiter;
    }

    /// <summary>Wakes the waiters of these jobs (from a notification).</summary>
    public void Changed(IEnumerable<Guid> jobIds)
    {
        lock (_gate)
        {
            if (_waiters.Count == 0) return;
            foreach (var id in jobIds)
            {
                if (_waiters.TryGetValue(id, out var list)) list.ForEach(w => w.Signal());
            }
        }
    }

    /// <summary>Wakes every waiter: notifications may have been missed (the listening connection was re-opened).</summary>
    public void ChangedAll()
    {
        lock (_gate)
        {
            foreach (var list in _waiters.Values) list.ForEach(w => w.Signal());
        }
    }

    private void Remove(Waiter waiter)
    {
        lock (_gate)
        {
            if (!_waiters.TryGetValue(waiter.JobId, out var list)) return;
            list.Remove(waiter);
            if (list.Count == 0) _waiters.Remove(waiter.JobId);
        }
    }

    /// <summary>One client's subscription to one job's changes.</summary>
    public sealed class Waiter(JobWaiters owner, Guid jobId, TimeSpan recheck) : IDisposable
    {
        // At most one pending signal: changes that arrive while the waiter reads the job fold into one wake-up.
        private readonly Channel<bool> _signals = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

        public Guid JobId => jobId;

        internal void Signal() => _signals.Writer.TryWrite(true);

        /// <summary>
        /// Returns true when the job may have changed (a notification): read it again. Returns false after
        /// <paramref name="atMost"/> (capped at <see cref="JobWaiters.Recheck"/>) without one: check whether the row
        /// changed anyway (<see cref="JobQueries.VersionAsync"/>) before reading it again.
        /// </summary>
        public async Task<bool> WaitAsync(TimeSpan atMost, CancellationToken ct)
        {
            if (atMost > recheck) atMost = recheck;
            if (atMost <= TimeSpan.Zero) return _signals.Reader.TryRead(out _);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(atMost);
            try
            {
                return await _signals.Reader.ReadAsync(timeout.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                return false;
            }
        }

        public void Dispose() => owner.Remove(this);
    }
}
