using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Monolith.Domain.Jobs;

namespace Monolith.Worker.Engine;

/// <summary>
/// This node's execution slots and its small local buffer. <see cref="WorkerOptions.Concurrency"/>
/// (<c>WORKER_CONCURRENCY</c>) slot loops each take the next claimed job and run it; a job's slot is free as soon as its
/// handler returns (its outcome is then written in a batch, see <see cref="AttemptRecorder"/>).
/// <para>
/// Jobs are claimed ahead of free slots only for short jobs, so that one claim carries many: the buffer holds about
/// <see cref="WorkerOptions.PrefetchMilliseconds"/> of work per slot, judged from how long recent attempts took
/// (<see cref="Capacity"/>), and at most <see cref="WorkerOptions.MaxPrefetch"/> jobs. Behind 50 ms jobs that is a job or
/// two; behind long jobs nothing, and nothing for a slot held by a job running far longer than the mean (a long job among
/// quick ones): a claimed job never waits behind a long one, while priorities move on or another node has free slots. A buffered
/// job is already 'running' under the claiming firing (a crash recovers it like a running one); a node that stops hands
/// its buffer back (<see cref="CloseAsync"/>).
/// </para>
/// </summary>
public sealed class JobSlots
{
    private readonly Channel<Assignment> _ready = Channel.CreateUnbounded<Assignment>(new UnboundedChannelOptions { SingleWriter = false });
    private readonly Lock _gate = new();
    private readonly JobExecutor _executor;
    private readonly JobClaims _claims;
    private readonly ILogger<JobSlots> _logger;
    private readonly double _prefetchMs;
    private readonly int _maxPrefetch;
    private int _inHand;
    private int _running;
    private bool _closed;
    private int _started;

    /// <summary>Per slot, <see cref="Stopwatch"/> timestamp when its current job started; 0 while it is idle.</summary>
    private readonly long[] _startedAt;

    /// <summary>Recent attempts' mean duration in milliseconds (exponentially weighted); NaN before the first.</summary>
    private double _meanMs = double.NaN;

    private sealed record Assignment(Job Job, FiringWork Work);

    public JobSlots(JobExecutor executor, JobClaims claims, IOptions<WorkerOptions> options, ILogger<JobSlots> logger)
    {
        _executor = executor;
        _claims = claims;
        _logger = logger;
        Concurrency = options.Value.Concurrency;
        _startedAt = new long[Concurrency];
        _prefetchMs = Math.Max(0, options.Value.PrefetchMilliseconds);
        _maxPrefetch = Math.Max(0, options.Value.MaxPrefetch);
    }

    /// <summary>Handlers that run at once on this node.</summary>
    public int Concurrency { get; }

    /// <summary>Called whenever a job leaves a slot (the dispatcher decides whether to claim more).</summary>
    public Action? Freed { get; set; }

    /// <summary>
    /// Called when a job's outcome is written: only then does the job stop counting as running in the database, which is
    /// what a concurrency cap counts (a claim made when the slot came free may still have seen it running).
    /// </summary>
    public Action? OutcomeWritten { get; set; }

    /// <summary>False once the node began to stop: nothing more is taken, and the buffer has been handed back.</summary>
    public bool Open => !Volatile.Read(ref _closed);

    /// <summary>Jobs claimed and not yet finished on this node: running or waiting in the buffer.</summary>
    public int InHand => Volatile.Read(ref _inHand);

    /// <summary>Jobs running now.</summary>
    public int Running => Volatile.Read(ref _running);

    /// <summary>
    /// How many jobs this node holds at most: its slots plus a buffer of about <see cref="WorkerOptions.PrefetchMilliseconds"/>
    /// of work per slot at the recent mean attempt duration (none until an attempt has been measured).
    /// </summary>
    public int Capacity
    {
        get
        {
            var mean = Volatile.Read(ref _meanMs);
            if (double.IsNaN(mean) || _prefetchMs == 0) return Concurrency;
            var prefetch = FlowingSlots(mean) * _prefetchMs / Math.Max(mean, 0.001);
            return Concurrency + (int)Math.Min(prefetch, _maxPrefetch);
        }
    }

    /// <summary>
    /// The slots that will soon take a buffered job: idle ones, and those whose job started within the prefetch horizon
    /// (<see cref="WorkerOptions.PrefetchMilliseconds"/>). A slot whose job has run longer (a 60 s job among quick ones)
    /// buffers nothing for itself: a job claimed behind it would wait there while priorities moved on, or while another
    /// node had room. So a job submitted later with a higher priority is overtaken by at most that much buffered work.
    /// </summary>
    private int FlowingSlots(double meanMs)
    {
        var now = Stopwatch.GetTimestamp();
        var young = (long)(_prefetchMs * Stopwatch.Frequency / 1000);
        var flowing = 0;
        for (var i = 0; i < _startedAt.Length; i++)
        {
            var started = Volatile.Read(ref _startedAt[i]);
            if (started == 0 || now - started <= young) flowing++;
        }
        return flowing;
    }

    /// <summary>How many more jobs this node may take now.</summary>
    public int Room => Capacity - InHand;

    /// <summary>
    /// Takes <paramref name="jobs"/> claimed by the firing of <paramref name="work"/>: each runs in the next free slot.
    /// False when the node already stopped (nothing was taken: the caller hands the jobs back).
    /// </summary>
    public bool TryAdd(IReadOnlyList<Job> jobs, FiringWork work)
    {
        if (jobs.Count == 0) return true;
        lock (_gate)
        {
            if (_closed) return false;
            StartLoops();
            Interlocked.Add(ref _inHand, jobs.Count);
            work.Add(jobs.Count);
            foreach (var job in jobs) _ready.Writer.TryWrite(new Assignment(job, work));
        }
        return true;
    }

    /// <summary>
    /// The node stops taking jobs: slots finish what they run, and the jobs still waiting in the buffer are handed back
    /// to the cluster (due again at once, their claim's attempt uncounted). Returns how many were handed back.
    /// </summary>
    public async Task<int> CloseAsync(CancellationToken ct)
    {
        List<Assignment> waiting = [];
        lock (_gate)
        {
            _closed = true;
            while (_ready.Reader.TryRead(out var assignment)) waiting.Add(assignment);
        }
        if (waiting.Count == 0) return 0;
        try
        {
            var returned = await _claims.HandBackAsync([.. waiting.Select(a => a.Job)], attemptUsed: false, DispatchTickets.WakeChannel, ct);
            foreach (var assignment in waiting) Settle(assignment, null);
            _logger.LogInformation("Stopping: handed {Count} claimed job(s) that had not started back to the cluster", returned);
            return returned;
        }
        catch (Exception ex)
        {
            // Not handed back: their firing ends with this failure, and Quartz's recovery of it takes them back.
            _logger.LogWarning(ex, "Could not hand {Count} claimed job(s) back; the firing's recovery will take them", waiting.Count);
            foreach (var assignment in waiting) Settle(assignment, new OperationCanceledException("Not handed back.", ex));
            return 0;
        }
    }

    private void Settle(Assignment assignment, Exception? failure)
    {
        Interlocked.Decrement(ref _inHand);
        assignment.Work.Settled(failure);
    }

    private void StartLoops()
    {
        if (Interlocked.Exchange(ref _started, 1) == 1) return;
        for (var i = 0; i < Concurrency; i++)
        {
            var slot = i;
            _ = Task.Run(() => SlotLoopAsync(slot));
        }
    }

    private bool TryTake(out Assignment? assignment)
    {
        lock (_gate)
        {
            if (!_closed && _ready.Reader.TryRead(out assignment)) return true;
        }
        assignment = null;
        return false;
    }

    /// <summary>One slot: runs the next buffered job, one at a time, for the life of the process.</summary>
    private async Task SlotLoopAsync(int slot)
    {
        while (await _ready.Reader.WaitToReadAsync())
        {
            while (TryTake(out var assignment))
            {
                Interlocked.Increment(ref _running);
                var started = Stopwatch.GetTimestamp();
                Volatile.Write(ref _startedAt[slot], started);
                Task outcome;
                try
                {
                    outcome = await _executor.RunAsync(assignment!.Job, assignment.Work.Stopping);
                }
                catch (Exception ex)
                {
                    outcome = Task.FromException(ex); // a shutdown hands the job back through its firing
                }
                finally
                {
                    Volatile.Write(ref _startedAt[slot], 0);
                    Interlocked.Decrement(ref _running);
                    Interlocked.Decrement(ref _inHand);
                }
                Measure(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                assignment!.Work.Track(HandBackIfNotStored(assignment.Job, outcome));
                Freed?.Invoke();
            }
            if (!Open) return;
        }
    }

    /// <summary>
    /// An outcome the database refused even as a failure (<see cref="OutcomeNotStoredException"/>) is handed back to the
    /// cluster with its attempt counted, so a later attempt runs (or fails for good once the attempts are spent).
    /// </summary>
    private async Task HandBackIfNotStored(Job job, Task outcome)
    {
        try
        {
            await outcome;
            OutcomeWritten?.Invoke();
        }
        catch (OutcomeNotStoredException)
        {
            await _claims.HandBackAsync([job], attemptUsed: true, DispatchTickets.WakeChannel, CancellationToken.None);
        }
    }

    private void Measure(double ms)
    {
        var mean = Volatile.Read(ref _meanMs);
        Volatile.Write(ref _meanMs, double.IsNaN(mean) ? ms : mean + (ms - mean) * 0.05);
    }
}
