using Monolith.Domain.Jobs;

namespace Monolith.Domain.Datasets;

/// <summary>A dataset's state as clients see it: its row's state combined with its job's (<see cref="DatasetStatuses.Of"/>).</summary>
public enum DatasetStatus
{
    Uploaded,
    Processing,
    Completed,
    Failed,
}

/// <summary>
/// The status rule of datasets: what the row says, unless its job ended failed or cancelled before the dataset recorded
/// anything (a timeout, a cancel, a lost node on the last attempt; the ended handler marks the row failed in the job's
/// own transaction, so this covers rows it could not reach). Response mappers, endpoints, commands and the dashboard ask
/// it; nobody compares a response's state string.
/// </summary>
public static class DatasetStatuses
{
    /// <summary>The error shown for a dataset whose parse job was cancelled.</summary>
    public const string CancelledError = "The parse job was cancelled.";

    public static DatasetStatus Of(Dataset dataset, Job? job, DateTimeOffset now) => JobEndedFirst(dataset, job, now)
        ? DatasetStatus.Failed
        : dataset.State switch
        {
            DatasetState.Uploaded => DatasetStatus.Uploaded,
            DatasetState.Processing => DatasetStatus.Processing,
            DatasetState.Completed => DatasetStatus.Completed,
            DatasetState.Failed => DatasetStatus.Failed,
            _ => throw new ArgumentOutOfRangeException(nameof(dataset), dataset.State, null),
        };

    /// <summary>Why the dataset failed, as shown with <see cref="Of"/>: the row's error, or its ended job's.</summary>
    public static string? ErrorOf(Dataset dataset, Job? job, DateTimeOffset now) => JobEndedFirst(dataset, job, now)
        ? job!.State == JobState.Cancelled ? CancelledError : job.LastError
        : dataset.Error;

    /// <summary>When the dataset finished, as shown with <see cref="Of"/>: the row's time, or its ended job's.</summary>
    public static DateTimeOffset? FinishedAtOf(Dataset dataset, Job? job, DateTimeOffset now) =>
        JobEndedFirst(dataset, job, now) ? job!.FinishedAt : dataset.FinishedAt;

    /// <summary>Nothing works on the dataset (completed or failed): it may be reprocessed or deleted.</summary>
    public static bool IsIdle(DatasetStatus status) => status is DatasetStatus.Completed or DatasetStatus.Failed;

    /// <summary>The lower-case name clients see.</summary>
    public static string ToName(this DatasetStatus status) => status switch
    {
        DatasetStatus.Uploaded => "uploaded",
        DatasetStatus.Processing => "processing",
        DatasetStatus.Completed => "completed",
        DatasetStatus.Failed => "failed",
        _ => throw new ArgumentOutOfRangeException(nameof(status)),
    };

    /// <summary>The row still waits for its job (uploaded, processing) but the job has ended without recording anything.</summary>
    private static bool JobEndedFirst(Dataset dataset, Job? job, DateTimeOffset now) =>
        dataset.State is DatasetState.Uploaded or DatasetState.Processing
        && job is not null && JobQueries.EffectiveState(job, now) is JobState.Failed or JobState.Cancelled;
}
