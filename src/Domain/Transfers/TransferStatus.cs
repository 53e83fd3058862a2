using Monolith.Domain.Jobs;

namespace Monolith.Domain.Transfers;

/// <summary>A transfer as clients see it (<c>GET /v1/transfers/{id}</c>, the dashboard): its row and its job together.</summary>
public enum TransferStatus
{
    Queued,
    Running,
    Retrying,
    Completed,
    Failed,
    Cancelled,
}

/// <summary>The one rule that turns a transfer's row and its job into a <see cref="TransferStatus"/>.</summary>
public static class TransferStatuses
{
    /// <summary>
    /// The transfer's own record once it has finished (completed, failed, cancelled: the job's end is written on the row
    /// in the transaction that ends the job); before that the job's view: a job that ended without the row saying so,
    /// runs, or waits for its next attempt reads as such, and a waiting job reads as the row (queued, or running while
    /// its attempt's outcome is being recorded). Without a job, the row alone.
    /// </summary>
    public static TransferStatus Of(Transfer transfer, Job? job, DateTimeOffset now)
    {
        if (transfer.State is TransferState.Completed or TransferState.Failed or TransferState.Cancelled || job is null) return FromRow(transfer.State);
        return JobQueries.EffectiveState(job, now) switch
        {
            JobState.Cancelled => TransferStatus.Cancelled,
            JobState.Failed => TransferStatus.Failed,
            JobState.Running => TransferStatus.Running,
            JobState.Retrying => TransferStatus.Retrying,
            _ => transfer.State == TransferState.Running ? TransferStatus.Running : TransferStatus.Queued,
        };
    }

    /// <summary>Whether a client may cancel it (its job has not finished).</summary>
    public static bool CanCancel(this TransferStatus status) => status is TransferStatus.Queued or TransferStatus.Running or TransferStatus.Retrying;

    /// <summary>Whether a client may retry it (failed or cancelled).</summary>
    public static bool CanRetry(this TransferStatus status) => status is TransferStatus.Failed or TransferStatus.Cancelled;

    /// <summary>The lower-case name clients see.</summary>
    public static string ToName(this TransferStatus status) => status switch
    {
        TransferStatus.Queued => "queued",
        TransferStatus.Running => "running",
        TransferStatus.Retrying => "retrying",
        TransferStatus.Completed => "completed",
        TransferStatus.Failed => "failed",
        TransferStatus.Cancelled => "cancelled",
        _ => throw new ArgumentOutOfRangeException(nameof(status)),
    };

    private static TransferStatus FromRow(TransferState state) => state switch
    {
        TransferState.Queued => TransferStatus.Queued,
        TransferState.Running => TransferStatus.Running,
        TransferState.Completed => TransferStatus.Completed,
        TransferState.Failed => TransferStatus.Failed,
        TransferState.Cancelled => TransferStatus.Cancelled,
        _ => throw new ArgumentOutOfRangeException(nameof(state)),
    };
}
