using System.Collections.Concurrent;

namespace Monolith.Worker.Engine;

/// <summary>The jobs running on this node, each with the token a client's cancel fires.</summary>
public sealed class RunningJobs
{
    private readonly ConcurrentDictionary<Guid, CancellationTokenSource> _running = new();

    public int Count => _running.Count;

    public ICollection<Guid> Ids => _running.Keys;

    /// <summary>Registers a job for the length of its attempt; dispose the result when the attempt ends.</summary>
    public Registration Register(Guid jobId)
    {
        var source = new CancellationTokenSource();
        _running[jobId] = source;
        return new Registration(this, jobId, source);
    }

    /// <summary>Fires the cancel token of a job if it runs here; false when it does not.</summary>
    public bool Cancel(Guid jobId)
    {
        if (!_running.TryGetValue(jobId, out var source)) return false;
        try { source.Cancel(); } catch (ObjectDisposedException) { return false; }
        return true;
    }

    public sealed class Registration(RunningJobs owner, Guid jobId, CancellationTokenSource source) : IDisposable
    {
        public CancellationToken CancelToken => source.Token;

        public void Dispose()
        {
            owner._running.TryRemove(new KeyValuePair<Guid, CancellationTokenSource>(jobId, source));
            source.Dispose();
        }
    }
}
