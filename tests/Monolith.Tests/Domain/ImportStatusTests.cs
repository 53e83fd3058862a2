using Monolith.Domain.Imports;

namespace Monolith.Tests.Domain;

/// <summary>
/// The import status rule (<see cref="ImportStatuses.Of"/>) as a table: the row's state × its job's state → what clients
/// see. Completed is the row's; otherwise the job decides (a waiting or retrying job reads as queued), and without a job
/// (or with one that succeeded while the row does not say so) the row does.
/// </summary>
public sealed class ImportStatusTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);

    /// <param name="job">As in <see cref="TransferStatusTests.JobIn"/>: a stored job state, "…-due", or "none".</param>
    [Theory]
    [InlineData(ImportState.Queued, "none", ImportStatus.Queued)]
    [InlineData(ImportState.Queued, "queued", ImportStatus.Queued)]
    [InlineData(ImportState.Queued, "scheduled", ImportStatus.Queued)]
    [InlineData(ImportState.Queued, "running", ImportStatus.Running)]
    [InlineData(ImportState.Queued, "cancelled", ImportStatus.Cancelled)]
    [InlineData(ImportState.Running, "running", ImportStatus.Running)]
    [InlineData(ImportState.Running, "retrying", ImportStatus.Queued)]
    [InlineData(ImportState.Running, "retrying-due", ImportStatus.Queued)]
    [InlineData(ImportState.Running, "succeeded", ImportStatus.Running)]
    [InlineData(ImportState.Running, "failed", ImportStatus.Failed)]
    [InlineData(ImportState.Running, "cancelled", ImportStatus.Cancelled)]
    [InlineData(ImportState.Completed, "none", ImportStatus.Completed)]
    [InlineData(ImportState.Completed, "succeeded", ImportStatus.Completed)]
    [InlineData(ImportState.Completed, "running", ImportStatus.Completed)]
    [InlineData(ImportState.Completed, "failed", ImportStatus.Completed)]
    [InlineData(ImportState.Failed, "none", ImportStatus.Failed)]
    [InlineData(ImportState.Failed, "failed", ImportStatus.Failed)]
    [InlineData(ImportState.Failed, "queued", ImportStatus.Queued)]
    [InlineData(ImportState.Cancelled, "cancelled", ImportStatus.Cancelled)]
    [InlineData(ImportState.Cancelled, "scheduled-due", ImportStatus.Queued)]
    public void RowAndJob_GiveTheStatus(ImportState row, string job, ImportStatus expected) =>
        Assert.Equal(expected, ImportStatuses.Of(new Import { State = row }, TransferStatusTests.JobIn(job), Now));

    [Fact]
    public void Names_AreTheOnesClientsSee() =>
        Assert.Equal(["queued", "running", "completed", "failed", "cancelled"], Enum.GetValues<ImportStatus>().Select(s => s.ToName()));

    [Fact]
    public void WaitingOrRunning_CanBeCancelled_FailedOrCancelled_Retried_AndOnlyAFinishedOne_Reprocessed()
    {
        Assert.Equal([ImportStatus.Queued, ImportStatus.Running], Enum.GetValues<ImportStatus>().Where(s => s.CanCancel()));
        Assert.Equal([ImportStatus.Failed, ImportStatus.Cancelled], Enum.GetValues<ImportStatus>().Where(s => s.CanRetry()));
        Assert.Equal([ImportStatus.Completed, ImportStatus.Failed, ImportStatus.Cancelled], Enum.GetValues<ImportStatus>().Where(s => s.CanReprocess()));
    }
}
