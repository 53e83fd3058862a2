using System.Data.Common;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Monolith.Domain.Jobs;
using Quartz;

namespace Monolith.Worker.Engine;

/// <summary>
/// Writes the outcomes of finished attempts, many per transaction: whatever attempts ended while the previous
/// write was in flight go together into one fenced <c>UPDATE … FROM unnest(…)</c> and one insert of their attempt
/// records (<see cref="JobStore.FinishAttemptsAsync"/>), with the tickets of any retries in the same transaction.
/// So a busy node commits once per batch, not once per job, and an idle one still writes each outcome at once.
/// <para>
/// The caller (a dispatch firing) waits until its job's outcome is committed: only then may Quartz forget the
/// firing, whose recovery is what re-runs a job whose node dies. A database that is away is waited for (the batch
/// is retried with backoff); a node that shuts down meanwhile hands the attempt back instead (at least once).
/// </para>
/// </summary>
public sealed class AttemptRecorder(IServiceScopeFactory scopes, ILogger<AttemptRecorder> logger) : BackgroundService
{
    /// <summary>The most outcomes written in one transaction.</summary>
    public const int MaxBatch = 500;

    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });

    private sealed record Pending(Job Claimed, AttemptResult Result)
    {
        public TaskCompletionSource<bool> Written { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>
    /// Records how <paramref name="claimed"/>'s attempt ended. True when written; false when its lease was no longer
    /// current (another node took the job over), so nothing was written. Throws <see cref="OperationCanceledException"/>
    /// when the node shuts down before the outcome could be written.
    /// </summary>
    public async Task<bool> RecordAsync(Job claimed, AttemptResult result, CancellationToken shutdown)
    {
        var pending = new Pending(claimed, result);
        await _queue.Writer.WriteAsync(pending, CancellationToken.None);
        return await pending.Written.Task.WaitAsync(shutdown);
    }

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        var batch = new List<Pending>(MaxBatch);
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stopping))
            {
                batch.Clear();
                while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var next)) batch.Add(next);
                await WriteAsync(batch, stopping);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            foreach (var pending in batch) pending.Written.TrySetCanceled(stopping);
            while (_queue.Reader.TryRead(out var left)) left.Written.TrySetCanceled(stopping);
        }
    }

    private async Task WriteAsync(List<Pending> batch, CancellationToken stopping)
    {
        for (var wait = TimeSpan.FromMilliseconds(250); ; wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, TimeSpan.FromSeconds(5).Ticks)))
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var store = scope.ServiceProvider.GetRequiredService<JobStore>();
                await using var tx = await store.Db.Database.BeginTransactionAsync(CancellationToken.None);
                var written = await store.FinishAttemptsAsync(batch.Select(p => (p.Claimed, p.Result)).ToList(), CancellationToken.None);
                var tickets = scope.ServiceProvider.GetRequiredService<DispatchTickets>();
                foreach (var retry in batch.Where(p => p.Result.RetryAt is not null && written.Contains(p.Claimed.Id)))
                {
                    await tickets.ScheduleAsync(tx.GetDbTransaction(), new DispatchTicket(Guid.CreateVersion7(), 1),
                        retry.Result.RetryAt!.Value, CancellationToken.None);
                }
                await tx.CommitAsync(CancellationToken.None);
                foreach (var pending in batch) pending.Written.TrySetResult(written.Contains(pending.Claimed.Id));
                return;
            }
            catch (Exception ex) when (ex is DbException or JobPersistenceException)
            {
                logger.LogWarning(ex, "Could not record {Count} attempt outcome(s); trying again in {Wait}", batch.Count, wait);
                await Task.Delay(wait, stopping);
            }
        }
    }
}
