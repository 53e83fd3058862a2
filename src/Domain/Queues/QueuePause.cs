namespace Monolith.Domain.Queues;

/// <summary>
/// A paused queue: while its row exists, workers claim none of the queue's jobs (the claim in
/// <see cref="Jobs.JobClaims.ClaimAsync"/> and <see cref="Jobs.JobStore.ClaimCappedAsync"/> skip it). Submitting and cancelling still work. Queues are shared by
/// every tenant, so only the admin pauses and resumes them.
/// </summary>
public sealed class QueuePause
{
    public string Queue { get; set; } = "";
    public DateTimeOffset PausedAt { get; set; }

    /// <summary>The key that paused it (the admin key's id, <c>admin</c>).</summary>
    public string PausedBy { get; set; } = "";
}
