using System.Diagnostics;
using System.Net.Sockets;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Monolith.Domain.Jobs;
using Monolith.Domain.Persistence;
using Npgsql;

namespace Monolith.Worker.Engine;

/// <summary>
/// Writes the outcomes of finished attempts, many per transaction (<see cref="BatchQueue{TItem,TResult}"/>): the
/// attempts that ended while the previous write was in flight go together into one fenced
/// <c>UPDATE … FROM unnest(…)</c> plus one insert of their attempt records (<see cref="JobStore.FinishAttemptsAsync"/>),
/// with the tickets of any retries in the same transaction. A busy node commits once per batch, not once per job.
/// <para>
/// The caller (a dispatch firing) waits until its job's outcome is committed: only then may Quartz forget the
/// firing, whose recovery is what re-runs a job whose node dies. A database that is away is waited for (the batch
/// is retried with backoff, only for failures that can pass: <see cref="IsTransient"/>); a node that shuts down
/// meanwhile hands the attempt back instead (at least once).
/// </para>
/// <para>
/// Any other failure is taken to be about one outcome's data (text PostgreSQL refuses, a value past a limit), so one
/// bad outcome never holds up the others: the batch is written again one outcome at a time, and an outcome the
/// database refuses is recorded alone as a failure of its job ("The outcome could not be stored: …", naming the
/// database's error, never the refused text). If even that is refused, the attempt is handed back
/// (<see cref="OutcomeNotStoredException"/>) and the writer goes on with the next outcomes: nothing loops forever.
/// How long the outcome being written has waited is <see cref="WaitingFor"/> (readiness: <see cref="OutcomeWriterHealthCheck"/>).
/// </para>
/// </summary>
public sealed class AttemptRecorder(IServiceScopeFactory scopes, IOptions<WorkerOptions> options, ILogger<AttemptRecorder> logger) : BackgroundService
{
    private readonly ClaimCaps _caps = options.Value.Caps();

    /// <summary>The most outcomes written in one transaction.</summary>
    public const int MaxBatch = 500;

    /// <summary>The longest wait between two tries of a write that failed for a transient reason.</summary>
    private static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(5);

    private readonly BatchQueue<(Job Claimed, AttemptResult Result), bool> _queue = new(MaxBatch);

    /// <summary><see cref="Stopwatch.GetTimestamp"/> when the write in progress began; 0 while none is.</summary>
    private long _writingSince;

    /// <summary>
    /// How long the batch being written has been waiting to be committed (the database away or a write blocked);
    /// zero while nothing is being written. Outcomes that ended meanwhile wait behind it, so this is the age of the
    /// oldest outcome not yet written, give or take the moment it took to be picked up.
    /// </summary>
    public TimeSpan WaitingFor => Volatile.Read(ref _writingSince) is var since and > 0 ? Stopwatch.GetElapsedTime(since) : TimeSpan.Zero;

    /// <summary>
    /// Records how <paramref name="claimed"/>'s attempt ended. True when written; false when its lease was no longer
    /// current (another node took the job over), so nothing was written. When the database refused the outcome for
    /// its data, the job is recorded as failed instead (and this is true). Throws <see cref="OperationCanceledException"/>
    /// when the node shuts down before the outcome could be written, and <see cref="OutcomeNotStoredException"/> when
    /// not even the failure could be written (the attempt is handed back).
    /// </summary>
    public Task<bool> RecordAsync(Job claimed, AttemptResult result, CancellationToken shutdown) =>
        _queue.EnqueueAsync((claimed, result), shutdown);

    protected override Task ExecuteAsync(CancellationToken stopping) => _queue.RunAsync(WriteAsync, stopping);

    private async Task WriteAsync(IReadOnlyList<BatchQueue<(Job Claimed, AttemptResult Result), bool>.Entry> batch, CancellationToken stopping)
    {
        Volatile.Write(ref _writingSince, Stopwatch.GetTimestamp());
        try
        {
            if (await TryWriteAsync(batch, stopping) is not { } refused) return;
            if (batch.Count == 1)
            {
                await FailAloneAsync(batch[0], refused, stopping);
                return;
            }
            logger.LogWarning(refused, "The database refused a batch of {Count} attempt outcome(s) for its data; writing them one at a time", batch.Count);
            foreach (var entry in batch)
            {
                if (await TryWriteAsync([entry], stopping) is { } alone) await FailAloneAsync(entry, alone, stopping);
            }
        }
        finally
        {
            Volatile.Write(ref _writingSince, 0);
        }
    }

    /// <summary>
    /// Writes <paramref name="entries"/> in one transaction and completes them; transient failures are waited out with
    /// backoff. Returns null when written, or the exception when the database refused the write for another reason
    /// (then nothing was written and the entries are left open).
    /// </summary>
    private async Task<Exception?> TryWriteAsync(IReadOnlyList<BatchQueue<(Job Claimed, AttemptResult Result), bool>.Entry> entries, CancellationToken stopping)
    {
        for (var wait = TimeSpan.FromMilliseconds(250); ; wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, MaxWait.Ticks)))
        {
            try
            {
                var written = await CommitAsync(entries.Select(e => e.Item).ToList());
                foreach (var entry in entries) entry.Done.TrySetResult(written.Contains(entry.Item.Claimed.Id));
                return null;
            }
            catch (Exception ex) when (IsTransient(ex))
            {
                logger.LogWarning(ex, "Could not record {Count} attempt outcome(s); trying again in {Wait}", entries.Count, wait);
                await Task.Delay(wait, stopping);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                return ex;
            }
        }
    }

    /// <summary>
    /// Records <paramref name="entry"/>'s job as failed because its outcome was refused (<paramref name="refused"/>);
    /// if the database refuses that too, hands the attempt back (the entry fails with <see cref="OutcomeNotStoredException"/>).
    /// </summary>
    private async Task FailAloneAsync(BatchQueue<(Job Claimed, AttemptResult Result), bool>.Entry entry, Exception refused, CancellationToken stopping)
    {
        var (claimed, _) = entry.Item;
        var reason = Describe(refused);
        logger.LogError(refused, "The outcome of job {JobId} could not be stored ({Reason}); recording the job as failed", claimed.Id, reason);
        var failed = new AttemptResult(JobState.Failed, "failed", $"The outcome could not be stored: {reason}").Storable();
        var substitute = new BatchQueue<(Job Claimed, AttemptResult Result), bool>.Entry((claimed, failed));
        if (await TryWriteAsync([substitute], stopping) is not { } again)
        {
            entry.Done.TrySetResult(await substitute.Done.Task);
            return;
        }
        logger.LogError(again, "Not even the failure of job {JobId} could be stored ({Reason}): the attempt is handed back", claimed.Id, Describe(again));
        entry.Done.TrySetException(new OutcomeNotStoredException(
            $"The outcome of job {claimed.Id} could not be stored ({reason}), nor its failure ({Describe(again)}).", again));
    }

    /// <summary>One transaction: the outcomes, the tickets of retries (and of places freed under caps), what features write for ended jobs. Returns the ids written.</summary>
    private async Task<HashSet<Guid>> CommitAsync(IReadOnlyList<(Job Claimed, AttemptResult Result)> outcomes)
    {
        await using var scope = scopes.CreateAsyncScope();
        var store = scope.ServiceProvider.GetRequiredService<JobStore>();
        await using var tx = await store.Db.Database.BeginTransactionAsync(CancellationToken.None);
        var written = await store.FinishAttemptsAsync(outcomes, CancellationToken.None);
        var retries = outcomes.Where(a => a.Result.RetryAt is not null && written.Contains(a.Claimed.Id));
        var dueTimes = retries.Select(a => a.Result.RetryAt!.Value);
        if (!_caps.IsEmpty)
        {
            // A capped job that stops running frees a place a claim may have passed over: a ticket, due now, takes it.
            var freed = outcomes.Count(a => written.Contains(a.Claimed.Id) && _caps.Covers(a.Claimed));
            dueTimes = dueTimes.Concat(Enumerable.Repeat(DateTimeOffset.UtcNow, freed));
        }
        await scope.ServiceProvider.GetRequiredService<DispatchTickets>()
            .ScheduleAsync(tx.GetDbTransaction(), dueTimes, CancellationToken.None);
        await JobsEndedAsync(scope.ServiceProvider, outcomes, written);
        await tx.CommitAsync(CancellationToken.None);
        return written;
    }

    /// <summary>
    /// True for a failure that can pass by itself: the connection broke or could not be made, a timeout, PostgreSQL
    /// restarting or short of resources, a serialization failure or deadlock (Npgsql's <see cref="NpgsqlException.IsTransient"/>,
    /// and SQLSTATE classes 08, 40, 53, 57 and 58), also when Quartz wraps it. Anything else is about the data written.
    /// </summary>
    public static bool IsTransient(Exception ex)
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            if (e is PostgresException pg)
            {
                return pg.IsTransient || pg.SqlState[..2] is "08" or "40" or "53" or "57" or "58";
            }
            if (e is NpgsqlException { IsTransient: true } or TimeoutException or IOException or SocketException) return true;
        }
        return false;
    }

    /// <summary>Why a write was refused, for the job's error and the log: the SQLSTATE and PostgreSQL's message, never the data.</summary>
    private static string Describe(Exception ex)
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            if (e is PostgresException pg) return $"{pg.SqlState}: {pg.MessageText}";
        }
        var text = $"{ex.GetType().Name}: {ex.Message}";
        return text.Length <= 300 ? text : text[..300];
    }

    /// <summary>
    /// What features write for the jobs this batch ended (<see cref="IJobEndedHandler"/>: webhook deliveries, for one), in
    /// the batch's transaction (never lost, never written for an outcome that was not). A batch without a terminal job
    /// a handler is concerned with does nothing here.
    /// </summary>
    private static async Task JobsEndedAsync(
        IServiceProvider services, IReadOnlyList<(Job Claimed, AttemptResult Result)> outcomes, HashSet<Guid> written)
    {
        foreach (var handler in services.GetServices<IJobEndedHandler>())
        {
            List<TerminalJob>? ended = null;
            foreach (var (claimed, result) in outcomes)
            {
                if (!result.NextState.IsTerminal() || !handler.Concerns(claimed, result.NextState) || !written.Contains(claimed.Id)) continue;
                (ended ??= []).Add(new TerminalJob(claimed, result.NextState, result.Error, result.ResultJson));
            }
            if (ended is not null) await handler.JobsEndedAsync(ended, services.GetRequiredService<MonolithDbContext>(), services.GetRequiredService<JobClient>(), CancellationToken.None);
        }
    }
}
