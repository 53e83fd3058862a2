using System.Text.Json;
using Monolith.Domain.Datasets;
using Monolith.Domain.Jobs;
using Monolith.Domain.Persistence;
using Monolith.Worker.Engine;

namespace Monolith.Worker.Jobs.Datasets;

/// <summary>
/// Marks a dataset failed when its <c>parse_dataset</c> or <c>reprocess_dataset</c> job ends failed (its attempts ran
/// out, it timed out, its node was lost) or cancelled, with the job's error, in the transaction that ends the job
/// (<see cref="IJobEndedHandler"/>). A file that cannot be parsed is marked by the job itself, with its bad lines; the
/// dataset is then no longer waiting and this changes nothing.
/// </summary>
public sealed class DatasetJobEnded(JobTypeRegistry types) : IJobEndedHandler
{
    private readonly string _parse = types.Of<ParseDatasetPayload>().Kind;
    private readonly string _reprocess = types.Of<ReprocessDatasetPayload>().Kind;

    public bool Concerns(Job job, JobState state) =>
        state is JobState.Failed or JobState.Cancelled && (job.Type == _parse || job.Type == _reprocess);

    public async Task JobsEndedAsync(IReadOnlyList<TerminalJob> ended, MonolithDbContext db, JobClient jobs, CancellationToken ct)
    {
        foreach (var (job, state, error, _) in ended)
        {
            // Both payloads name the dataset the same way.
            var datasetId = JsonSerializer.Deserialize<ParseDatasetPayload>(job.Payload, JobTypeDefinition.PayloadJson)!.DatasetId;
            var shown = state == JobState.Cancelled ? DatasetStatuses.CancelledError : error ?? "The parse job failed.";
            await DatasetFailure.MarkAsync(db, datasetId, job.Id, shown, rowsRejected: 0, firstErrorsJson: "[]", deleteRecords: false, ct);
        }
    }
}
