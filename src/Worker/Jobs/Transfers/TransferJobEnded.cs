using Microsoft.EntityFrameworkCore;
using Monolith.Domain.Jobs;
using Monolith.Domain.Persistence;
using Monolith.Domain.Transfers;
using Monolith.Worker.Engine;

namespace Monolith.Worker.Jobs.Transfers;

/// <summary>
/// Writes a transfer's end on its row when its <c>transfer_document</c> job ends failed or cancelled (the job's error,
/// as the engine wrote it), in the transaction that ends the job (<see cref="JobRowEnded"/>). So the handler only
/// records each attempt's error and bytes. A completed transfer is left as it is.
/// </summary>
public sealed class TransferJobEnded(JobTypeRegistry types) : JobRowEnded(types.Of<TransferDocumentPayload>())
{
    protected override Task MarkAsync(MonolithDbContext db, TerminalJob ended, CancellationToken ct)
    {
        var (job, state, error, _) = ended;
        var transferId = PayloadOf<TransferDocumentPayload>(job).TransferId;
        var (rowState, message) = state == JobState.Cancelled
            ? (TransferState.Cancelled, error ?? "Cancelled.")
            : (TransferState.Failed, error ?? "The transfer's job failed.");
        var stored = Transfer.StorableError(message);
        var now = DateTimeOffset.UtcNow;
        return db.Transfers
            .Where(t => t.Id == transferId && t.TenantId == job.TenantId && t.JobId == job.Id && t.State != TransferState.Completed)
            .ExecuteUpdateAsync(s => s
                .SetProperty(t => t.State, rowState)
                .SetProperty(t => t.Error, stored)
                .SetProperty(t => t.FinishedAt, now), ct);
    }
}
