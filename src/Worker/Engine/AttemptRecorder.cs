using System.Data.Common;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Monolith.Worker.Hosting;
using Monolith.Domain.Jobs;
using Monolith.Worker.Jobs.Webhooks;
using Quartz;

namespace Monolith.Worker.Engine;

/// <summary>
/// Writes the outcomes of finished attempts, many per transaction (<see cref="BatchQueue{TItem,TResult}"/>): the
/// attempts that ended while the previous write was in flight go together into one fenced
/// <c>UPDATE … FROM unnest(…)</c> plus one insert of their attempt records (<see cref="JobStore.FinishAttemptsAsync"/>),
/// with the tickets of any retries in the same transaction. A busy node commits once per batch, not once per job.
/// <para>
/// The caller (a dispatch firing) waits until its job's outcome is committed: only then may Quartz forget the
/// firing, whose recovery is what re-runs a job whose node dies. A database that is away is waited for (the batch
/// is retried with backoff); a node that shuts down meanwhile hands the attempt back instead (at least once).
/// </para>
/// </summary>
public sealed class AttemptRecorder(IServiceScopeFactory scopes, IOptions<WorkerOptions> options, ILogger<AttemptRecorder> logger) : BackgroundService
{
    private readonly ClaimCaps _caps = options.Value.Caps();

    /// <summary>The most outcomes written in one transaction.</summary>
    public const int MaxBatch = 500;

    private readonly BatchQueue<(Job Claimed, AttemptResult Result), bool> _queue = new(MaxBatch);

    /// <summary>
    /// Records how <paramref name="claimed"/>'s attempt ended. True when written; false when its lease was no longer
    /// current (another node took the job over), so nothing was written. Throws <see cref="OperationCanceledException"/>
    /// when the node shuts down before the outcome could be written.
    /// </summary>
    public Task<bool> RecordAsync(Job claimed, AttemptResult result, CancellationToken shutdown) =>
        _queue.EnqueueAsync((claimed, result), shutdown);

    protected override Task ExecuteAsync(CancellationToken stopping) => _queue.RunAsync(WriteAsync, stopping);

    private async Task WriteAsync(IReadOnlyList<BatchQueue<(Job Claimed, AttemptResult Result), bool>.Entry> batch, CancellationToken stopping)
    {
        for (var wait = TimeSpan.FromMilliseconds(250); ; wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, TimeSpan.FromSeconds(5).Ticks)))
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var store = scope.ServiceProvider.GetRequiredService<JobStore>();
                await using var tx = await store.Db.Database.BeginTransactionAsync(CancellationToken.None);
                var written = await store.FinishAttemptsAsync(batch.Select(e => e.Item).ToList(), CancellationToken.None);
                var retries = batch.Select(e => e.Item).Where(a => a.Result.RetryAt is not null && written.Contains(a.Claimed.Id));
                var dueTimes = retries.Select(a => a.Result.RetryAt!.Value);
                if (!_caps.IsEmpty)
                {
                    // A capped job that stops running frees a place a claim may have passed over: a ticket, due now, takes it.
                    var freed = batch.Count(e => written.Contains(e.Item.Claimed.Id) && _caps.Covers(e.Item.Claimed));
                    dueTimes = dueTimes.Concat(Enumerable.Repeat(DateTimeOffset.UtcNow, freed));
                }
                await scope.ServiceProvider.GetRequiredService<DispatchTickets>()
                    .ScheduleAsync(tx.GetDbTransaction(), dueTimes, CancellationToken.None);
                await StoreWebhooksAsync(scope.ServiceProvider, batch, written);
                await tx.CommitAsync(CancellationToken.None);
                foreach (var entry in batch) entry.Done.TrySetResult(written.Contains(entry.Item.Claimed.Id));
                return;
            }
            catch (Exception ex) when (ex is DbException or JobPersistenceException)
            {
                logger.LogWarning(ex, "Could not record {Count} attempt outcome(s); trying again in {Wait}", batch.Count, wait);
                await Task.Delay(wait, stopping);
            }
        }
    }

    /// <summary>
    /// The webhook deliveries of the jobs this batch ended, stored in the batch's transaction (never lost, never sent
    /// for an outcome that was not written). A batch without a callback URL among its terminal jobs does nothing here.
    /// </summary>
    private static async Task StoreWebhooksAsync(
        IServiceProvider services, IReadOnlyList<BatchQueue<(Job Claimed, AttemptResult Result), bool>.Entry> batch, HashSet<Guid> written)
    {
        List<TerminalJob>? finished = null;
        foreach (var (claimed, result) in batch.Select(e => e.Item))
        {
            if (claimed.CallbackUrl is null || !result.NextState.IsTerminal() || !written.Contains(claimed.Id)) continue;
            (finished ??= []).Add(new TerminalJob(claimed, result.NextState, result.Error, result.ResultJson));
        }
        if (finished is null) return;
        var deliveries = services.GetRequiredService<WebhookEvents>().For(finished);
        if (deliveries.Count > 0) await services.GetRequiredService<JobClient>().SubmitBatchAsync(deliveries, CancellationToken.None);
    }
}
