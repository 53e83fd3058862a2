using Monolith.Domain.Jobs;
using Monolith.Domain.Transfers;

namespace Monolith.Tests.Domain;

/// <summary>
/// The transfer status rule (<see cref="TransferStatuses.Of"/>) as a table: the row's state × its job's state → what
/// clients see. A finished row speaks for itself; before that the job does, and a waiting job reads as the row.
/// </summary>
public sealed class TransferStatusTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);

    /// <param name="job">The job's stored state; "retrying-due" and "scheduled-due" are due (the engine reads them as queued); "none": no job.</param>
    [Theory]
    [InlineData(TransferState.Queued, "none", TransferStatus.Queued)]
    [InlineData(TransferState.Queued, "queued", TransferStatus.Queued)]
    [InlineData(TransferState.Queued, "scheduled", TransferStatus.Queued)]
    [InlineData(TransferState.Queued, "running", TransferStatus.Running)]
    [InlineData(TransferState.Queued, "retrying", TransferStatus.Retrying)]
    [InlineData(TransferState.Queued, "retrying-due", TransferStatus.Queued)]
    [InlineData(TransferState.Queued, "succeeded", TransferStatus.Queued)]
    [InlineData(TransferState.Queued, "failed", TransferStatus.Failed)]
    [InlineData(TransferState.Queued, "cancelled", TransferStatus.Cancelled)]
    [InlineData(TransferState.Running, "none", TransferStatus.Running)]
    [InlineData(TransferState.Running, "queued", TransferStatus.Running)]
    [InlineData(TransferState.Running, "scheduled-due", TransferStatus.Running)]
    [InlineData(TransferState.Running, "running", TransferStatus.Running)]
    [InlineData(TransferState.Running, "retrying", TransferStatus.Retrying)]
    [InlineData(TransferState.Running, "retrying-due", TransferStatus.Running)]
    [InlineData(TransferState.Running, "failed", TransferStatus.Failed)]
    [InlineData(TransferState.Running, "cancelled", TransferStatus.Cancelled)]
    [InlineData(TransferState.Completed, "none", TransferStatus.Completed)]
    [InlineData(TransferState.Completed, "succeeded", TransferStatus.Completed)]
    [InlineData(TransferState.Completed, "running", TransferStatus.Completed)]
    [InlineData(TransferState.Completed, "failed", TransferStatus.Completed)]
    [InlineData(TransferState.Completed, "cancelled", TransferStatus.Completed)]
    [InlineData(TransferState.Failed, "none", TransferStatus.Failed)]
    [InlineData(TransferState.Failed, "failed", TransferStatus.Failed)]
    [InlineData(TransferState.Failed, "running", TransferStatus.Failed)]
    [InlineData(TransferState.Failed, "queued", TransferStatus.Failed)]
    [InlineData(TransferState.Cancelled, "none", TransferStatus.Cancelled)]
    [InlineData(TransferState.Cancelled, "cancelled", TransferStatus.Cancelled)]
    [InlineData(TransferState.Cancelled, "queued", TransferStatus.Cancelled)]
    public void RowAndJob_GiveTheStatus(TransferState row, string job, TransferStatus expected) =>
        Assert.Equal(expected, TransferStatuses.Of(new Transfer { State = row }, JobIn(job), Now));

    [Fact]
    public void Names_AreTheOnesClientsSee() =>
        Assert.Equal(["queued", "running", "retrying", "completed", "failed", "cancelled"], Enum.GetValues<TransferStatus>().Select(s => s.ToName()));

    [Fact]
    public void OnlyAnUnfinishedTransfer_CanBeCancelled_AndOnlyAFailedOrCancelledOne_Retried()
    {
        Assert.Equal([TransferStatus.Queued, TransferStatus.Running, TransferStatus.Retrying], Enum.GetValues<TransferStatus>().Where(s => s.CanCancel()));
        Assert.Equal([TransferStatus.Failed, TransferStatus.Cancelled], Enum.GetValues<TransferStatus>().Where(s => s.CanRetry()));
    }

    /// <summary>A job in <paramref name="state"/> as <see cref="RowAndJob_GiveTheStatus"/> names it.</summary>
    internal static Job? JobIn(string state) => state switch
    {
        "none" => null,
        "retrying-due" => new Job { State = JobState.Retrying, ScheduledAt = Now.AddSeconds(-1) },
        "scheduled-due" => new Job { State = JobState.Scheduled, ScheduledAt = Now.AddSeconds(-1) },
        _ => new Job { State = Enum.Parse<JobState>(state, ignoreCase: true), ScheduledAt = Now.AddMinutes(5) },
    };
}
