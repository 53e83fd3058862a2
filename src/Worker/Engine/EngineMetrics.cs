using Prometheus;

namespace Monolith.Worker.Engine;

/// <summary>The engine's Prometheus instruments, served at /metrics.</summary>
public static class EngineMetrics
{
    public static readonly Counter Submitted = Metrics.CreateCounter(
        "monolith_jobs_submitted_total", "Jobs accepted by this node.", "type");

    public static readonly Counter Attempts = Metrics.CreateCounter(
        "monolith_job_attempts_total", "Attempts finished on this node, by how they ended.", "type", "outcome");

    public static readonly Histogram Duration = Metrics.CreateHistogram(
        "monolith_job_attempt_duration_seconds", "How long attempts ran on this node.",
        new HistogramConfiguration { LabelNames = ["type"], Buckets = Histogram.ExponentialBuckets(0.001, 4, 10) });

    public static readonly Histogram EnqueueToStart = Metrics.CreateHistogram(
        "monolith_job_enqueue_to_start_seconds", "From when a job was due to when its attempt started.",
        new HistogramConfiguration { LabelNames = ["type"], Buckets = Histogram.ExponentialBuckets(0.001, 4, 10) });

    public static readonly Gauge Running = Metrics.CreateGauge(
        "monolith_jobs_running", "Jobs running on this node now.");
}
