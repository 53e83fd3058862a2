using Monolith.Domain.Datasets;
using Monolith.Domain.Jobs;

namespace Monolith.Tests.Domain;

/// <summary>
/// The status rule of datasets (<see cref="DatasetStatuses"/>): the row's state, unless the row still waits for a job
/// that ended failed or cancelled; then failed, with the job's error and finish time.
/// </summary>
public sealed class DatasetStatusesTests
{
    private static readonly DateTimeOffset Now = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset RowFinished = Now.AddMinutes(-10);
    private static readonly DateTimeOffset JobFinished = Now.AddMinutes(-5);

    private static Dataset Row(DatasetState state) => new() { Id = Guid.NewGuid(), State = state, Error = "row error", FinishedAt = RowFinished };

    private static Job JobIn(JobState state, DateTimeOffset? scheduledAt = null) =>
        new() { Id = Guid.NewGuid(), State = state, LastError = "job error", FinishedAt = JobFinished, ScheduledAt = scheduledAt ?? Now.AddMinutes(-1) };

    /// <summary>Row state × job state (null: no job) → the status shown, and whose error and finish time go with it.</summary>
    public static TheoryData<DatasetState, JobState?, DatasetStatus, string?> Table()
    {
        var table = new TheoryData<DatasetState, JobState?, DatasetStatus, string?>();
        foreach (var row in Enum.GetValues<DatasetState>())
        {
            var rowStatus = Enum.Parse<DatasetStatus>(row.ToString());
            table.Add(row, null, rowStatus, "row");
            foreach (var job in Enum.GetValues<JobState>())
            {
                var waits = row is DatasetState.Uploaded or DatasetState.Processing;
                var ended = job is JobState.Failed or JobState.Cancelled;
                if (waits && ended) table.Add(row, job, DatasetStatus.Failed, job == JobState.Cancelled ? "cancelled" : "job");
                else table.Add(row, job, rowStatus, "row");
            }
        }
        return table;
    }

    [Theory]
    [MemberData(nameof(Table))]
    public void Status_CombinesTheRowWithItsJob(DatasetState row, JobState? job, DatasetStatus expected, string? errorFrom)
    {
        var dataset = Row(row);
        var parse = job is { } state ? JobIn(state) : null;

        Assert.Equal(expected, DatasetStatuses.Of(dataset, parse, Now));
        var (error, finishedAt) = errorFrom switch
        {
            "job" => ("job error", JobFinished),
            "cancelled" => (DatasetStatuses.CancelledError, JobFinished),
            _ => ("row error", RowFinished),
        };
        Assert.Equal(error, DatasetStatuses.ErrorOf(dataset, parse, Now));
        Assert.Equal(finishedAt, DatasetStatuses.FinishedAtOf(dataset, parse, Now));
    }

    [Fact]
    public void AJobRetryingAfterAFailedAttempt_KeepsTheDatasetProcessing()
    {
        var dataset = Row(DatasetState.Processing);

        Assert.Equal(DatasetStatus.Processing, DatasetStatuses.Of(dataset, JobIn(JobState.Retrying, scheduledAt: Now.AddMinutes(1)), Now));
        Assert.Equal(DatasetStatus.Processing, DatasetStatuses.Of(dataset, JobIn(JobState.Retrying, scheduledAt: Now.AddMinutes(-1)), Now));
    }

    [Theory]
    [InlineData(DatasetStatus.Uploaded, false)]
    [InlineData(DatasetStatus.Processing, false)]
    [InlineData(DatasetStatus.Completed, true)]
    [InlineData(DatasetStatus.Failed, true)]
    public void OnlyACompletedOrFailedDataset_IsIdle(DatasetStatus status, bool idle) => Assert.Equal(idle, DatasetStatuses.IsIdle(status));

    [Fact]
    public void Names_AreWhatClientsRead() =>
        Assert.Equal(["uploaded", "processing", "completed", "failed"], Enum.GetValues<DatasetStatus>().Select(s => s.ToName()));
}
