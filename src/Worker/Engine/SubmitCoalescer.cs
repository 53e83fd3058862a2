using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Monolith.Domain.Jobs;

namespace Monolith.Worker.Engine;

/// <summary>
/// Group commit for single submissions: the ones that arrive while the previous write is in flight are stored
/// together, in one transaction with shared tickets (<see cref="JobClient.SubmitBatchAsync"/>). Each request is
/// answered only after the transaction holding its job and ticket committed, so an accepted job is as durable as
/// before. A batch is often several tenants' requests, so one bad row must not fail the others: when PostgreSQL
/// refuses the batch for one row's data (<see cref="UnstorableJobException.FromDataError"/>), each job is written
/// again on its own, the others are stored and only that one fails (422). A failed write for any other reason (the
/// database away) fails every request of that batch (503), and none of their jobs exists.
/// </summary>
public sealed class SubmitCoalescer(IServiceScopeFactory scopes, ILogger<SubmitCoalescer> logger) : BackgroundService
{
    /// <summary>The most single submissions stored in one transaction.</summary>
    public const int MaxBatch = 100;

    private readonly BatchQueue<NewJob, SubmitOutcome> _queue = new(MaxBatch);

    /// <summary>
    /// Stores <paramref name="job"/> with whatever else is being submitted now; its stored row, or the job that holds its
    /// unique key (two submits of one key in a batch: one job, <see cref="JobClient.SubmitBatchWithOutcomesAsync"/>).
    /// </summary>
    public Task<SubmitOutcome> SubmitAsync(NewJob job, CancellationToken ct) => _queue.EnqueueAsync(job, ct);

    protected override Task ExecuteAsync(CancellationToken stopping) => _queue.RunAsync(WriteAsync, stopping);

    private async Task WriteAsync(IReadOnlyList<BatchQueue<NewJob, SubmitOutcome>.Entry> batch, CancellationToken stopping)
    {
        IReadOnlyList<SubmitOutcome> stored;
        try
        {
            stored = await StoreAsync(batch.Select(e => e.Item).ToList());
        }
        catch (Exception ex) when (UnstorableJobException.FromDataError(ex) is { } rejected)
        {
            if (batch.Count == 1)
            {
                batch[0].Done.TrySetException(rejected);
                return;
            }
            // The data is not logged: it is a client's, and may be anything.
            logger.LogWarning("PostgreSQL refused a group commit of {Count} submissions for one row's data (SQLSTATE {SqlState}); " +
                              "storing them one by one", batch.Count, rejected.SqlState ?? "none: encoding");
            foreach (var entry in batch)
            {
                try
                {
                    entry.Done.TrySetResult((await StoreAsync([entry.Item]))[0]);
                }
                catch (Exception one)
                {
                    entry.Done.TrySetException(UnstorableJobException.FromDataError(one) ?? one);
                }
            }
            return;
        }
        for (var i = 0; i < batch.Count; i++) batch[i].Done.TrySetResult(stored[i]);
    }

    /// <summary>One transaction, in a scope of its own (a failed write leaves its context's changes behind).</summary>
    private async Task<IReadOnlyList<SubmitOutcome>> StoreAsync(IReadOnlyList<NewJob> jobs)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<JobClient>().SubmitBatchWithOutcomesAsync(jobs, CancellationToken.None);
    }
}
