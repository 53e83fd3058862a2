namespace Monolith.Domain.Transfers;

/// <summary>A transfer's life as its job records it: waiting for a worker, moving bytes, done, or given up on.</summary>
public enum TransferState
{
    Queued,
    Running,
    Completed,
    Failed,
}

public static class TransferStates
{
    /// <summary>The lower-case name stored in the table and shown to clients.</summary>
    public static string ToName(this TransferState state) => state switch
    {
        TransferState.Queued => "queued",
        TransferState.Running => "running",
        TransferState.Completed => "completed",
        TransferState.Failed => "failed",
        _ => throw new ArgumentOutOfRangeException(nameof(state)),
    };
}
