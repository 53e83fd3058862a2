using System.Collections.Concurrent;
using Prometheus;

namespace Monolith.Worker.Engine;

/// <summary>
/// The engine's Prometheus instruments, served at /metrics (docs/observability.md). Counters count what this node
/// did since it started (sum them over nodes); labels are only job types, queues, outcomes and states, all of them
/// finite, never job ids or tenants. Queue depth is the cluster's, read from the database when /metrics is scraped
/// (<see cref="QueueDepthMetrics"/>).
/// </summary>
public static class EngineMetrics
{
    private static readonly double[] SecondsBuckets = Histogram.ExponentialBuckets(0.001, 4, 10);

    public static readonly Counter Submitted = Metrics.CreateCounter(
        "monolith_jobs_submitted_total", "Jobs accepted by this node.", "type", "queue");

    public static readonly Counter Started = Metrics.CreateCounter(
        "monolith_job_attempts_started_total", "Attempts started on this node.", "type", "queue");

    public static readonly Counter Attempts = Metrics.CreateCounter(
        "monolith_job_attempts_total", "Attempts finished on this node, by how they ended (succeeded, failed, cancelled, timed_out).", "type", "outcome");

    public static readonly Counter Finished = Metrics.CreateCounter(
        "monolith_jobs_finished_total", "Jobs that reached a terminal state on this node (succeeded, failed, cancelled).", "type", "state");

    public static readonly Counter Retries = Metrics.CreateCounter(
        "monolith_job_retries_total", "Attempts that failed and were scheduled to run again.", "type");

    public static readonly Histogram Duration = Metrics.CreateHistogram(
        "monolith_job_attempt_duration_seconds", "How long attempts ran on this node.",
        new HistogramConfiguration { LabelNames = ["type"], Buckets = SecondsBuckets });

    public static readonly Histogram EnqueueToStart = Metrics.CreateHistogram(
        "monolith_job_enqueue_to_start_seconds", "From when a job was due to when its first attempt started.",
        new HistogramConfiguration { LabelNames = ["type", "queue"], Buckets = SecondsBuckets });

    public static readonly Gauge Running = Metrics.CreateGauge(
        "monolith_jobs_running", "Jobs running on this node now.");

    public static readonly Gauge QueueDepth = Metrics.CreateGauge(
        "monolith_queue_jobs", "Jobs of the whole cluster per queue and state (read from the queue figures when scraped).", "queue", "state");

    private static readonly ConcurrentDictionary<(string Type, string Queue), JobInstruments> ByJob = new();

    /// <summary>
    /// The instruments one attempt of <paramref name="type"/> in <paramref name="queue"/> touches, looked up once per type
    /// and queue: an attempt then costs no label look-up and no allocation for metrics.
    /// </summary>
    public static JobInstruments For(string type, string queue) => ByJob.GetOrAdd((type, queue), key => new JobInstruments(key.Type, key.Queue));

    /// <summary>The labelled children of the engine's instruments for one job type and queue.</summary>
    public sealed class JobInstruments(string type, string queue)
    {
        public Counter.Child Started { get; } = EngineMetrics.Started.WithLabels(type, queue);
        public Histogram.Child EnqueueToStart { get; } = EngineMetrics.EnqueueToStart.WithLabels(type, queue);
        public Histogram.Child Duration { get; } = EngineMetrics.Duration.WithLabels(type);
        public Counter.Child Succeeded { get; } = Attempts.WithLabels(type, "succeeded");
        public Counter.Child FinishedSucceeded { get; } = Finished.WithLabels(type, "succeeded");
        public Counter.Child Retried { get; } = Retries.WithLabels(type);

        /// <summary>Counts an attempt that ended <paramref name="outcome"/> (the job now <paramref name="state"/>).</summary>
        public void Ended(string outcome, Domain.Jobs.JobState state)
        {
            if (outcome == "succeeded") Succeeded.Inc();
            else Attempts.WithLabels(type, outcome).Inc();
            if (state == Domain.Jobs.JobState.Succeeded) FinishedSucceeded.Inc();
            else if (state == Domain.Jobs.JobState.Retrying) Retried.Inc();
            else if (Domain.Jobs.JobStates.IsTerminal(state)) Finished.WithLabels(type, Domain.Jobs.JobStates.ToName(state)).Inc();
        }
    }
}
