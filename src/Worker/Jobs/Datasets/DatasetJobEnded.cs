using Monolith.Domain.Datasets;
using Monolith.Domain.Jobs;
using Monolith.Domain.Persistence;
using Monolith.Worker.Engine;

namespace Monolith.Worker.Jobs.Datasets;

/// <summary>
/// Marks a dataset failed when its <c>parse_dataset</c> or <c>reprocess_dataset</c> job ends failed (its attempts ran
/// out, it timed out, its node was lost) or cancelled, with the job's error, in the transaction that ends the job
/// (<see cref="JobRowEnded"/>). A file that cannot be parsed is marked by the job itself, with its bad lines; the
/// dataset is then no longer waiting and this changes nothing.
/// </summary>
public sealed class DatasetJobEnded(JobTypeRegistry types) : JobRowEnded(types.Of<ParseDatasetPayload>(), types.Of<ReprocessDatasetPayload>())
{
    protected override Task MarkAsync(MonolithDbContext db, TerminalJob ended, CancellationToken ct)
    {
        var (job, state, error, _) = ended;
        var datasetId = PayloadOf<ParseDatasetPayload>(job).DatasetId; // both payloads name the dataset the same way
        var shown = state == JobState.Cancelled ? DatasetStatuses.CancelledError : error ?? "The parse job failed.";
        return DatasetFailure.MarkAsync(db, datasetId, job.Id, shown, rowsRejected: 0, firstErrorsJson: "[]", deleteRecords: false, ct);
    }
}
