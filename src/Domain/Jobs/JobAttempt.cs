namespace Monolith.Domain.Jobs;

/// <summary>One finished attempt of a job and how it ended. Every attempt's error is kept here.</summary>
public sealed class JobAttempt
{
    public long Id { get; set; }
    public Guid JobId { get; set; }
    public int Attempt { get; set; }
    public string Node { get; set; } = "";
    public DateTimeOffset StartedAt { get; set; }
    public DateTimeOffset FinishedAt { get; set; }

    /// <summary>succeeded, failed, cancelled, timed_out, or lost (the node died or shut down mid-run).</summary>
    public string Outcome { get; set; } = "";
    public string? Error { get; set; }
}
