using Monolith.Domain.Jobs;

namespace Monolith.Domain.Imports;

/// <summary>An import as clients see it (<c>GET /v1/imports/{id}</c>): its row and its job together.</summary>
public enum ImportStatus
{
    Queued,
    Running,
    Completed,
    Failed,
    Cancelled,
}

/// <summary>The one rule that turns an import's row and its job into an <see cref="ImportStatus"/>.</summary>
public static class ImportStatuses
{
    /// <summary>
    /// A completed import is completed. Before that the job decides: cancelled, failed (also on a lost node's last
    /// attempt), running, or queued while it waits for a worker (a retry included: it resumes from the checkpoint).
    /// Without a job (or with one that succeeded but the row does not say so), the row alone.
    /// </summary>
    public static ImportStatus Of(Import import, Job? job, DateTimeOffset now)
    {
        if (import.State == ImportState.Completed || job is null) return FromRow(import.State);
        return JobQueries.EffectiveState(job, now) switch
        {
            JobState.Cancelled => ImportStatus.Cancelled,
            JobState.Failed => ImportStatus.Failed,
            JobState.Running => ImportStatus.Running,
            JobState.Queued or JobState.Scheduled or JobState.Retrying => ImportStatus.Queued,
            _ => FromRow(import.State),
        };
    }

    /// <summary>Whether a client may cancel it (waiting or running).</summary>
    public static bool CanCancel(this ImportStatus status) => status is ImportStatus.Queued or ImportStatus.Running;

    /// <summary>Whether a client may retry it, resuming from its checkpoint (failed or cancelled).</summary>
    public static bool CanRetry(this ImportStatus status) => status is ImportStatus.Failed or ImportStatus.Cancelled;

    /// <summary>Whether a client may reprocess it, reading the stored file again from its start (nothing works on it).</summary>
    public static bool CanReprocess(this ImportStatus status) => status is ImportStatus.Completed or ImportStatus.Failed or ImportStatus.Cancelled;

    /// <summary>The lower-case name clients see.</summary>
    public static string ToName(this ImportStatus status) => status switch
    {
        ImportStatus.Queued => "queued",
        ImportStatus.Running => "running",
        ImportStatus.Completed => "completed",
        ImportStatus.Failed => "failed",
        ImportStatus.Cancelled => "cancelled",
        _ => throw new ArgumentOutOfRangeException(nameof(status)),
    };

    private static ImportStatus FromRow(ImportState state) => state switch
    {
        ImportState.Queued => ImportStatus.Queued,
        ImportState.Running => ImportStatus.Running,
        ImportState.Completed => ImportStatus.Completed,
        ImportState.Failed => ImportStatus.Failed,
        ImportState.Cancelled => ImportStatus.Cancelled,
        _ => throw new ArgumentOutOfRangeException(nameof(state)),
    };
}
