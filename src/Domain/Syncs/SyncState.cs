namespace Monolith.Domain.Syncs;

/// <summary>A sync's life: waiting for its job, copying pages, done, given up on, or stopped by a client.</summary>
public enum SyncState
{
    Queued,
    Running,
    Completed,
    Failed,
    Cancelled,
}

public static class SyncStates
{
    /// <summary>The lower-case name stored in the table and shown to clients.</summary>
    public static string ToName(this SyncState state) => state switch
    {
        SyncState.Queued => "queued",
        SyncState.Running => "running",
        SyncState.Completed => "completed",
        SyncState.Failed => "failed",
        SyncState.Cancelled => "cancelled",
        _ => throw new ArgumentOutOfRangeException(nameof(state)),
    };
}
