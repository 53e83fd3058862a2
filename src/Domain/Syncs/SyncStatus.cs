using Monolith.Domain.Jobs;

namespace Monolith.Domain.Syncs;

/// <summary>A sync as clients see it (<c>GET /v1/syncs/{id}</c>, the dashboard): its row and its job together.</summary>
public enum SyncStatus
{
    Queued,
    Running,
    Completed,
    Failed,
    Cancelled,
}

/// <summary>The one rule that turns a sync's row and its job into a <see cref="SyncStatus"/>.</summary>
public static class SyncStatuses
{
    /// <summary>
    /// A completed sync is completed. Before that the job decides: cancelled, failed (also on a lost node's last attempt),
    /// running, or queued while it waits for a worker (a retry included: it resumes from the checkpoint). Without a job
    /// (or with one that succeeded but the row does not say so), the row alone.
    /// </summary>
    public static SyncStatus Of(Sync sync, Job? job, DateTimeOffset now)
    {
        if (sync.State == SyncState.Completed || job is null) return FromRow(sync.State);
        return JobQueries.EffectiveState(job, now) switch
        {
            JobState.Cancelled => SyncStatus.Cancelled,
            JobState.Failed => SyncStatus.Failed,
            JobState.Running => SyncStatus.Running,
            JobState.Queued or JobState.Scheduled or JobState.Retrying => SyncStatus.Queued,
            _ => FromRow(sync.State),
        };
    }

    /// <summary>Whether a client may cancel it (waiting or running).</summary>
    public static bool CanCancel(this SyncStatus status) => status is SyncStatus.Queued or SyncStatus.Running;

    /// <summary>Whether a client may retry it (failed or cancelled).</summary>
    public static bool CanRetry(this SyncStatus status) => status is SyncStatus.Failed or SyncStatus.Cancelled;

    /// <summary>The lower-case name clients see.</summary>
    public static string ToName(this SyncStatus status) => status switch
    {
        SyncStatus.Queued => "queued",
        SyncStatus.Running => "running",
        SyncStatus.Completed => "completed",
        SyncStatus.Failed => "failed",
        SyncStatus.Cancelled => "cancelled",
        _ => throw new ArgumentOutOfRangeException(nameof(status)),
    };

    private static SyncStatus FromRow(SyncState state) => state switch
    {
        SyncState.Queued => SyncStatus.Queued,
        SyncState.Running => SyncStatus.Running,
        SyncState.Completed => SyncStatus.Completed,
        SyncState.Failed => SyncStatus.Failed,
        SyncState.Cancelled => SyncStatus.Cancelled,
        _ => throw new ArgumentOutOfRangeException(nameof(state)),
    };
}
