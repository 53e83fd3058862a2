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
}
