namespace Monolith.Domain.Transfers;

/// <summary>
/// A transfer's life as its row records it: waiting for a worker, moving bytes, done, given up on, or stopped by a
/// client. What clients see combines it with the job's state: <see cref="TransferStatuses.Of"/>.
/// </summary>
public enum TransferState
{
    Queued,
    Running,
    Completed,
    Failed,
    Cancelled,
}

public static class TransferStates
{
    /// <summary>The lower-case name stored in the table.</summary>
    public static string ToName(this TransferState state) => state switch
    {
        TransferState.Queued => "queued",
        TransferState.Running => "running",
        TransferState.Completed => "completed",
        TransferState.Failed => "failed",
        TransferState.Cancelled => "cancelled",
        _ => throw new ArgumentOutOfRangeException(nameof(state)),
    };
}
