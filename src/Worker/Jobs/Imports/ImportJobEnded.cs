using Microsoft.EntityFrameworkCore;
using Monolith.Domain.Imports;
using Monolith.Domain.Jobs;
using Monolith.Domain.Persistence;
using Monolith.Worker.Engine;

namespace Monolith.Worker.Jobs.Imports;

/// <summary>
/// Writes an import's end on its row when its <c>import_records</c> job ends failed or cancelled (the job's error, as the
/// engine wrote it: a file past its bad-row share, attempts run out, a lost node's), in the transaction that ends the job
/// (<see cref="JobRowEnded"/>). What was committed batch by batch stays. A completed import is left as it is.
/// </summary>
public sealed class ImportJobEnded(JobTypeRegistry types) : JobRowEnded(types.Of<ImportRecordsPayload>())
{
    protected override Task MarkAsync(MonolithDbContext db, TerminalJob ended, CancellationToken ct)
    {
        var (job, state, error, _) = ended;
        var importId = PayloadOf<ImportRecordsPayload>(job).ImportId;
        var (rowState, message) = state == JobState.Cancelled
            ? (ImportState.Cancelled, error ?? "Cancelled.")
            : (ImportState.Failed, error ?? "The import's job failed.");
        var stored = Import.StorableError(message);
        var now = DateTimeOffset.UtcNow;
        return db.Imports
            .Where(i => i.Id == importId && i.TenantId == job.TenantId && i.JobId == job.Id && i.State != ImportState.Completed)
            .ExecuteUpdateAsync(s => s
                .SetProperty(x => x.State, rowState)
                .SetProperty(x => x.Error, stored)
                .SetProperty(x => x.FinishedAt, now), ct);
    }
}
