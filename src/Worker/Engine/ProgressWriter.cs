using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Monolith.Domain.Jobs;

namespace Monolith.Worker.Engine;

/// <summary>
/// Writes the progress handlers report without making them wait. A report (<see cref="Registration.Report"/>) only
/// keeps the job's latest percent and message and returns: no I/O on the handler's path. One writer loop writes, per
/// round, every job's pending report in one fenced statement with the job-changed notification for waiters
/// (<see cref="JobStore.ReportProgressAsync"/>): a job's first report at once, later ones at most every
/// <see cref="WorkerOptions.ProgressIntervalMs"/> (250 ms) per job, each time the latest (reports in between are
/// replaced, never queued).
/// <para>
/// Fencing stays as it was: a report whose write matched no row has lost its lease (the job was recovered and runs
/// elsewhere), and the writer then calls the lease-lost callback the executor registered, which cancels the handler.
/// When an attempt ends (<see cref="Registration.Dispose"/>) its pending report is dropped, so none is issued after the
/// outcome; the outcome writes the final state and progress, and a write already in flight cannot change an ended
/// attempt (the outcome clears the lease the write is fenced on).
/// </para>
/// <para>
/// A database that is away is waited out with backoff, like <see cref="AttemptRecorder"/> (only failures that can
/// pass, <see cref="AttemptRecorder.IsTransient"/>); meanwhile handlers keep reporting, and each running job holds at
/// most one pending report, so nothing grows. Any other failure drops that round's reports (the next report of each
/// job is written again) and is logged without the text.
/// </para>
/// </summary>
public sealed class ProgressWriter(IServiceScopeFactory scopes, IOptions<WorkerOptions> options, ILogger<ProgressWriter> logger) : BackgroundService
{
    /// <summary>The longest wait between two tries of a round that failed for a transient reason.</summary>
    private static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(5);

    /// <summary><see cref="WorkerOptions.ProgressIntervalMs"/> in <see cref="Stopwatch"/> ticks.</summary>
    private readonly long _interval = Math.Max(0, options.Value.ProgressIntervalMs) * Stopwatch.Frequency / 1000;

    /// <summary>The attempts running on this node, each with its pending report if it has one.</summary>
    private readonly ConcurrentDictionary<Registration, byte> _running = new();

    /// <summary>Released when a job gets a pending report while it had none (the loop may have to write it sooner).</summary>
    private readonly SemaphoreSlim _wake = new(0);
    private int _wakeRequested;
    private long _rounds;

    /// <summary>Statements the writer has issued since the node started (each writes every report due, across jobs).</summary>
    public long Rounds => Interlocked.Read(ref _rounds);

    /// <summary>
    /// Registers <paramref name="claimed"/>'s attempt until the result is disposed (when the attempt ends).
    /// <paramref name="leaseLost"/> is called, on the thread pool, once a write of its progress finds its lease gone.
    /// </summary>
    public Registration Register(Job claimed, Action leaseLost)
    {
        // Listed for the writer at its first report: a job that never reports (most short ones) costs no entry.
        return new Registration(this, claimed.Id, claimed.LeaseToken ?? Guid.Empty, leaseLost);
    }

    /// <summary>One running attempt's progress: the latest report not yet written, and when it may be.</summary>
    public sealed class Registration : IDisposable
    {
        private readonly ProgressWriter _owner;
        private readonly Guid _jobId;
        private readonly Guid _lease;
        private readonly Action _leaseLost;
        private readonly Lock _lock = new();
        private bool _pending;
        private int _percent;
        private string? _message;
        /// <summary><see cref="Stopwatch"/> timestamp from which the next write may be issued (0: at once).</summary>
        private long _dueAt;
        /// <summary>The attempt ended or lost its lease: reports are ignored.</summary>
        private bool _ended;
        /// <summary>In the writer's list of running jobs (from the first report on).</summary>
        private bool _listed;

        internal Registration(ProgressWriter owner, Guid jobId, Guid lease, Action leaseLost)
        {
            _owner = owner;
            _jobId = jobId;
            _lease = lease;
            _leaseLost = leaseLost;
        }

        /// <summary>Keeps <paramref name="percent"/> and <paramref name="message"/> as the job's latest report; returns at once.</summary>
        public void Report(int percent, string? message)
        {
            bool wasIdle;
            lock (_lock)
            {
                if (_ended) return;
                wasIdle = !_pending;
                (_pending, _percent, _message) = (true, percent, message);
                if (!_listed)
                {
                    _listed = true;
                    _owner._running[this] = 0;
                }
            }
            if (wasIdle) _owner.Wake();
        }

        /// <summary>The attempt ended: a report not yet written is dropped, and later reports are ignored.</summary>
        public void Dispose()
        {
            lock (_lock)
            {
                _ended = true;
                (_pending, _message) = (false, null);
                if (!_listed) return;
            }
            _owner._running.TryRemove(this, out _);
        }

        /// <summary>The pending report when it is due at <paramref name="now"/> (then no longer pending); else null, lowering <paramref name="nextDue"/> to when it will be.</summary>
        internal ProgressReport? TakeDue(long now, ref long nextDue)
        {
            lock (_lock)
            {
                if (!_pending) return null;
                if (now < _dueAt)
                {
                    nextDue = Math.Min(nextDue, _dueAt);
                    return null;
                }
                _pending = false;
                _dueAt = now + _owner._interval;
                return new ProgressReport(_jobId, _lease, _percent, _message);
            }
        }

        /// <summary>A write of <paramref name="report"/> failed and is tried again on the next round, unless a later report replaced it.</summary>
        internal void PutBack(ProgressReport report)
        {
            lock (_lock)
            {
                if (_ended) return;
                if (!_pending) (_pending, _percent, _message) = (true, report.Percent, report.Message);
                _dueAt = 0;
            }
        }

        /// <summary>A write found the lease gone: unless the attempt has ended meanwhile, tells the executor (on the thread pool).</summary>
        internal void LoseLease()
        {
            lock (_lock)
            {
                if (_ended) return;
                (_ended, _pending, _message) = (true, false, null);
            }
            ThreadPool.QueueUserWorkItem(static leaseLost =>
            {
                try { leaseLost(); }
                catch (ObjectDisposedException) { } // the attempt ended in the meantime
            }, _leaseLost, preferLocal: false);
        }
    }

    private void Wake()
    {
        if (Interlocked.Exchange(ref _wakeRequested, 1) == 0) _wake.Release();
    }

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        var batch = new List<(Registration Job, ProgressReport Report)>();
        var wait = TimeSpan.Zero;
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                Volatile.Write(ref _wakeRequested, 0);
                batch.Clear();
                var now = Stopwatch.GetTimestamp();
                var nextDue = long.MaxValue;
                foreach (var (job, _) in _running)
                {
                    if (job.TakeDue(now, ref nextDue) is { } report) batch.Add((job, report));
                }
                if (batch.Count == 0)
                {
                    if (nextDue == long.MaxValue) await _wake.WaitAsync(stopping);
                    else await _wake.WaitAsync(Stopwatch.GetElapsedTime(now, nextDue), stopping);
                    continue;
                }
                try
                {
                    var written = await WriteAsync(batch.ConvertAll(b => b.Report), stopping);
                    wait = TimeSpan.Zero;
                    foreach (var (job, report) in batch)
                    {
                        if (!written.Contains(report.Lease)) job.LoseLease();
                    }
                }
                catch (Exception ex) when (AttemptRecorder.IsTransient(ex) && !stopping.IsCancellationRequested)
                {
                    wait = wait == TimeSpan.Zero ? TimeSpan.FromMilliseconds(250) : TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, MaxWait.Ticks));
                    logger.LogWarning(ex, "Could not write the progress of {Count} job(s); trying again in {Wait}", batch.Count, wait);
                    foreach (var (job, report) in batch) job.PutBack(report);
                    await Task.Delay(wait, stopping);
                }
                catch (Exception ex) when (!stopping.IsCancellationRequested)
                {
                    logger.LogWarning(ex, "The database refused the progress of {Count} job(s): those reports are dropped", batch.Count);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    /// <summary>One round: one statement. Returns the leases written.</summary>
    private async Task<HashSet<Guid>> WriteAsync(List<ProgressReport> reports, CancellationToken stopping)
    {
        Interlocked.Increment(ref _rounds);
        await using var scope = scopes.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<JobStore>().ReportProgressAsync(reports, stopping);
    }
}
