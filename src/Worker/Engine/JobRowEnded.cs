using System.Text.Json;
using Monolith.Domain.Jobs;
using Monolith.Domain.Persistence;

namespace Monolith.Worker.Engine;

/// <summary>
/// The <see cref="IJobEndedHandler"/> of a job-backed feature (docs/job-backed-features.md): when a job of its types ends
/// failed (attempts exhausted, a permanent failure, a timeout, a node lost on the last attempt) or cancelled,
/// <see cref="MarkAsync"/> writes that end on the feature's row, in the transaction that ends the job. So the engine's
/// one rule decides when a job has failed for good, and no handler asks "was this my last attempt?".
/// </summary>
public abstract class JobRowEnded(params JobTypeDefinition[] types) : IJobEndedHandler
{
    private readonly HashSet<string> _kinds = types.Select(t => t.Kind).ToHashSet(StringComparer.Ordinal);

    public bool Concerns(Job job, JobState state) => state is JobState.Failed or JobState.Cancelled && _kinds.Contains(job.Type);

    public async Task JobsEndedAsync(IReadOnlyList<TerminalJob> ended, MonolithDbContext db, JobClient jobs, CancellationToken ct)
    {
        foreach (var job in ended) await MarkAsync(db, job, ct);
    }

    /// <summary>
    /// Writes the end of <paramref name="ended"/> (failed or cancelled, with its error) on its row, in the caller's
    /// transaction. A row that no longer waits for that job (completed, or taken over by a newer job) is left as it is.
    /// </summary>
    protected abstract Task MarkAsync(MonolithDbContext db, TerminalJob ended, CancellationToken ct);

    /// <summary>The ended job's payload as stored (it names the row).</summary>
    protected static TPayload PayloadOf<TPayload>(Job job) => JsonSerializer.Deserialize<TPayload>(job.Payload, JobTypeDefinition.PayloadJson)!;
}
