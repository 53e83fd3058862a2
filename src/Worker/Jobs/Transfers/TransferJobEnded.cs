using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Monolith.Domain.Jobs;
using Monolith.Domain.Persistence;
using Monolith.Domain.Transfers;
using Monolith.Worker.Engine;

namespace Monolith.Worker.Jobs.Transfers;

/// <summary>
/// Writes a transfer's end on its row when its <c>transfer_document</c> job ends failed (a permanent failure, the last
/// attempt's error, a lost node on the last attempt: the job's error, as the engine wrote it) or cancelled, in the
/// transaction that ends the job (<see cref="IJobEndedHandler"/>). So the handler never decides "this was my last
/// attempt"; it only records each attempt's error and bytes. A completed transfer is left as it is.
/// </summary>
public sealed class TransferJobEnded(JobTypeRegistry types) : IJobEndedHandler
{
    private readonly string _kind = types.Of<TransferDocumentPayload>().Kind;

    public bool Concerns(Job job, JobState state) => state is JobState.Failed or JobState.Cancelled && job.Type == _kind;

    public async Task JobsEndedAsync(IReadOnlyList<TerminalJob> ended, MonolithDbContext db, JobClient jobs, CancellationToken ct)
    {
        var now = DateTimeOffset.UtcNow;
        foreach (var (job, state, error, _) in ended)
        {
            var transferId = JsonSerializer.Deserialize<TransferDocumentPayload>(job.Payload, JobTypeDefinition.PayloadJson)!.TransferId;
            var (rowState, message) = state == JobState.Cancelled
                ? (TransferState.Cancelled, error ?? "Cancelled.")
                : (TransferState.Failed, error ?? "The transfer's job failed.");
            var stored = Transfer.StorableError(message);
            await db.Transfers
                .Where(t => t.Id == transferId && t.TenantId == job.TenantId && t.JobId == job.Id && t.State != TransferState.Completed)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(t => t.State, rowState)
                    .SetProperty(t => t.Error, stored)
                    .SetProperty(t => t.FinishedAt, now), ct);
        }
    }
}
