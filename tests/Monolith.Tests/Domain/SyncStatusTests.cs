using Monolith.Domain.Syncs;

namespace Monolith.Tests.Domain;

/// <summary>
/// The sync status rule (<see cref="SyncStatuses.Of"/>) as a table: the row's state × its job's state → what clients
/// see. Completed is the row's; otherwise the job decides (a waiting or retrying job reads as queued), and without a
/// job (or with one that succeeded while the row does not say so) the row does.
/// </summary>
public sealed class SyncStatusTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);

    /// <param name="job">As in <see cref="TransferStatusTests.JobIn"/>: a stored job state, "…-due", or "none".</param>
    [Theory]
    [InlineData(SyncState.Queued, "none", SyncStatus.Queued)]
    [InlineData(SyncState.Queued, "queued", SyncStatus.Queued)]
    [InlineData(SyncState.Queued, "scheduled", SyncStatus.Queued)]
    [InlineData(SyncState.Queued, "retrying", SyncStatus.Queued)]
    [InlineData(SyncState.Queued, "running", SyncStatus.Running)]
    [InlineData(SyncState.Queued, "failed", SyncStatus.Failed)]
    [InlineData(SyncState.Queued, "cancelled", SyncStatus.Cancelled)]
    [InlineData(SyncState.Running, "none", SyncStatus.Running)]
    [InlineData(SyncState.Running, "running", SyncStatus.Running)]
    [InlineData(SyncState.Running, "retrying", SyncStatus.Queued)]
    [InlineData(SyncState.Running, "retrying-due", SyncStatus.Queued)]
    [InlineData(SyncState.Running, "succeeded", SyncStatus.Running)]
    [InlineData(SyncState.Running, "failed", SyncStatus.Failed)]
    [InlineData(SyncState.Running, "cancelled", SyncStatus.Cancelled)]
    [InlineData(SyncState.Completed, "none", SyncStatus.Completed)]
    [InlineData(SyncState.Completed, "succeeded", SyncStatus.Completed)]
    [InlineData(SyncState.Completed, "running", SyncStatus.Completed)]
    [InlineData(SyncState.Completed, "failed", SyncStatus.Completed)]
    [InlineData(SyncState.Completed, "cancelled", SyncStatus.Completed)]
    [InlineData(SyncState.Failed, "none", SyncStatus.Failed)]
    [InlineData(SyncState.Failed, "failed", SyncStatus.Failed)]
    [InlineData(SyncState.Failed, "queued", SyncStatus.Queued)]
    [InlineData(SyncState.Failed, "running", SyncStatus.Running)]
    [InlineData(SyncState.Cancelled, "none", SyncStatus.Cancelled)]
    [InlineData(SyncState.Cancelled, "cancelled", SyncStatus.Cancelled)]
    [InlineData(SyncState.Cancelled, "scheduled-due", SyncStatus.Queued)]
    [InlineData(SyncState.Cancelled, "running", SyncStatus.Running)]
    public void RowAndJob_GiveTheStatus(SyncState row, string job, SyncStatus expected) =>
        Assert.Equal(expected, SyncStatuses.Of(new Sync { State = row }, TransferStatusTests.JobIn(job), Now));

    [Fact]
    public void Names_AreTheOnesClientsSee() =>
        Assert.Equal(["queued", "running", "completed", "failed", "cancelled"], Enum.GetValues<SyncStatus>().Select(s => s.ToName()));

    [Fact]
    public void OnlyAWaitingOrRunningSync_CanBeCancelled_AndOnlyAFailedOrCancelledOne_Retried()
    {
        Assert.Equal([SyncStatus.Queued, SyncStatus.Running], Enum.GetValues<SyncStatus>().Where(s => s.CanCancel()));
        Assert.Equal([SyncStatus.Failed, SyncStatus.Cancelled], Enum.GetValues<SyncStatus>().Where(s => s.CanRetry()));
    }
}
