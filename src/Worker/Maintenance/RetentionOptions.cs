using Quartz;

namespace Monolith.Worker.Maintenance;

/// <summary>
/// How long finished jobs and uploaded datasets are kept; section <c>Retention</c> (docs/housekeeping.md). An age of
/// 0 or less keeps them forever. Ages are in days and may be fractional (0.5 = 12 h).
/// </summary>
public sealed class RetentionOptions
{
    public const string Section = "Retention";
    public const string DefaultSchedule = "0 */10 * * * ?";
    public const double DefaultSucceededDays = 7;
    public const double DefaultFailedDays = 30;
    public const double DefaultCancelledDays = 7;
    public const int DefaultBatchSize = 1000;

    /// <summary>When the cleaner runs: a Quartz cron expression (seconds first). Default every 10 minutes.</summary>
    public string Schedule { get; set; } = DefaultSchedule;

    /// <summary>Succeeded jobs (with their attempts) are deleted this many days after they finished. Default 7.</summary>
    public double SucceededDays { get; set; } = DefaultSucceededDays;

    /// <summary>Failed jobs are deleted this many days after they failed. Default 30 (longer: someone may retry them).</summary>
    public double FailedDays { get; set; } = DefaultFailedDays;

    /// <summary>Cancelled jobs are deleted this many days after they were cancelled. Default 7.</summary>
    public double CancelledDays { get; set; } = DefaultCancelledDays;

    /// <summary>
    /// Datasets (records, stored file and row, as <c>DELETE /v1/datasets/{id}</c> removes them) are deleted this many
    /// days after upload, once completed or failed. Default 0: kept until deleted by hand.
    /// </summary>
    public double DatasetsDays { get; set; }

    /// <summary>
    /// Schedule runs are deleted this many days after their fire time, except each schedule's latest run with a job
    /// (<see cref="Domain.Schedules.ScheduleRunPruning"/>). Default 7, as succeeded jobs.
    /// </summary>
    public double ScheduleRunsDays { get; set; } = DefaultSucceededDays;

    /// <summary>Rows deleted per statement (one short transaction each). Default 1,000.</summary>
    public int BatchSize { get; set; } = DefaultBatchSize;

    public bool IsValid(out string? error)
    {
        error = BatchSize < 1 ? "Retention:BatchSize must be at least 1." : null;
        try
        {
            _ = new CronExpression(Schedule);
        }
        catch (FormatException ex)
        {
            error = $"Retention:Schedule '{Schedule}' is not a Quartz cron expression (seconds first): {ex.Message}";
        }
        return error is null;
    }
}
