using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Monolith.Domain.Jobs;
using Monolith.Domain.Text;

namespace Monolith.Worker.Engine;

/// <summary>
/// Runs one claimed job and records how the attempt ended. This is the one boundary where a handler's
/// exception becomes a stored outcome: <see cref="PermanentJobException"/> fails the job, any other exception
/// is retried with backoff until the attempts run out, a client's cancel ends it cancelled, a timeout counts as
/// a retryable failure, and a shutdown hands it back for another node (nothing is written then).
/// <para>
/// It is also the one place where what an attempt writes is made storable: every outcome (error and result) goes
/// through <see cref="AttemptResult.Storable"/> and every progress message through <see cref="StorableText"/>, so
/// text from outside (a vendor's answer, an exception's message) never reaches PostgreSQL with a character it refuses;
/// a result is encrypted, for a type with secret results, only after that.
/// </para>
/// <para>
/// An attempt costs little besides its handler: no DI scope unless the handler takes services
/// (<see cref="JobTypeDefinition"/>), one cancellation source (<see cref="RunningJobs.Attempt"/>), metrics looked up once
/// per type (<see cref="EngineMetrics.For"/>), and one log line, written when the outcome is stored: at Debug for a
/// success that took less than <see cref="SlowAttempt"/>, at Information for a slower success and a cancel, at Warning
/// for a failure.
/// </para>
/// </summary>
public sealed class JobExecutor(
    IServiceProvider services,
    JobTypeRegistry types,
    RunningJobs running,
    AttemptRecorder recorder,
    ProgressWriter progress,
    JobSecrets secrets,
    NodeIdentity node,
    ILogger<JobExecutor> logger)
{
    /// <summary>A success that took longer than this is logged at Information; a quicker one at Debug.</summary>
    public static readonly TimeSpan SlowAttempt = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Runs <paramref name="claimed"/>'s handler. Completes when the handler has returned, so the caller's slot is free
    /// at once; its result is the write of the outcome, which completes once it is committed (true) or found fenced
    /// out (false: the lease was no longer current). Throws <see cref="OperationCanceledException"/> when the node shuts
    /// down mid-run: the row stays 'running' under its firing, and the firing's recovery re-runs it elsewhere.
    /// </summary>
    public async Task<Task> RunAsync(Job claimed, CancellationToken shutdown)
    {
        var metrics = EngineMetrics.For(claimed.Type, claimed.Queue);
        var logScope = logger.BeginScope(new JobLogScope(claimed, node.Id));
        try
        {
            var activity = JobTracing.StartExecution(claimed, node.Id);
            metrics.Started.Inc();
            if (claimed.Attempt == 1 && claimed.StartedAt is { } started)
            {
                metrics.EnqueueToStart.Observe(Math.Max(0, (started - claimed.ScheduledAt).TotalSeconds));
            }
            var clock = Stopwatch.GetTimestamp();
            AttemptResult? result;
            bool textReplaced;
            EngineMetrics.Running.Inc();
            try
            {
                (result, textReplaced) = await ExecuteAsync(claimed, shutdown);
            }
            catch
            {
                activity?.Dispose();
                throw;
            }
            finally
            {
                EngineMetrics.Running.Dec();
            }
            var elapsed = Stopwatch.GetElapsedTime(clock);
            if (result is null)
            {
                activity?.Dispose();
                return Task.FromResult(false);
            }
            result = Storable(claimed, result, textReplaced);
            metrics.Duration.Observe(elapsed.TotalSeconds);
            JobTracing.RecordOutcome(activity, result);
            activity?.Dispose();
            return RecordAsync(claimed, result, elapsed, metrics, shutdown);
        }
        finally
        {
            logScope?.Dispose();
        }
    }

    /// <summary>Writes the outcome (in a batch with others), then counts and logs it: one line per attempt.</summary>
    private async Task RecordAsync(Job claimed, AttemptResult result, TimeSpan elapsed, EngineMetrics.JobInstruments metrics, CancellationToken shutdown)
    {
        // Still in the attempt's log scope: this method started inside it, and the scope flows with the await.
        var written = await recorder.RecordAsync(claimed, result, shutdown);
        if (!written)
        {
            logger.LogWarning("Attempt {Attempt} ended {Outcome} but its lease was no longer current: the outcome was not recorded",
                claimed.Attempt, result.Outcome);
            return;
        }
        metrics.Ended(result.Outcome, result.NextState);
        if (result.NextState == JobState.Succeeded)
        {
            var level = elapsed < SlowAttempt ? LogLevel.Debug : LogLevel.Information;
            if (logger.IsEnabled(level))
            {
                logger.Log(level, "Attempt {Attempt} of {MaxAttempts} succeeded in {ElapsedMs:F1} ms", claimed.Attempt, claimed.MaxAttempts, elapsed.TotalMilliseconds);
            }
        }
        else if (result.Outcome == "cancelled")
        {
            logger.LogInformation("Attempt {Attempt} of {MaxAttempts} ended cancelled after {ElapsedMs:F1} ms; job is {State}",
                claimed.Attempt, claimed.MaxAttempts, elapsed.TotalMilliseconds, result.NextState.ToName());
        }
        else
        {
            logger.LogWarning("Attempt {Attempt} of {MaxAttempts} ended {Outcome} after {ElapsedMs:F1} ms; job is {State}: {Error}",
                claimed.Attempt, claimed.MaxAttempts, result.Outcome, elapsed.TotalMilliseconds, result.NextState.ToName(), result.Error);
        }
    }

    /// <summary>
    /// <paramref name="result"/> as it is written: made storable (<see cref="AttemptResult.Storable"/>, noting text the
    /// handler itself stored with characters replaced), then its result encrypted when the type's results are secret.
    /// </summary>
    private AttemptResult Storable(Job claimed, AttemptResult result, bool handlerReplacedText)
    {
        var storable = result.Storable(handlerReplacedText);
        if (!ReferenceEquals(storable, result)) logger.LogWarning("Text from outside held characters that cannot be stored: they are stored as U+FFFD and the attempt says so");
        return storable.ResultJson is { } json && types.Find(claimed.Type) is { Defaults.SecretResult: true }
            ? storable with { ResultJson = secrets.ProtectResult(claimed.Id, json) }
            : storable;
    }

    /// <returns>How the attempt ended (its result not yet encrypted), or null when there is nothing to record (the lease
    /// was lost); and whether the handler stored outside text with characters replaced.</returns>
    private async Task<(AttemptResult? Result, bool TextReplaced)> ExecuteAsync(Job claimed, CancellationToken shutdown)
    {
        if (claimed.CancelRequestedAt is not null)
        {
            return (new AttemptResult(JobState.Cancelled, "cancelled", "Cancelled before it could run again."), false);
        }
        if (claimed.Attempt > claimed.MaxAttempts)
        {
            return (new AttemptResult(JobState.Failed, "failed",
                $"Attempts exhausted ({claimed.MaxAttempts}): the last attempt's node stopped before it finished."), false);
        }
        var definition = types.Find(claimed.Type);
        if (definition is null)
        {
            return (new AttemptResult(JobState.Failed, "failed", $"No job type '{claimed.Type}' is registered on node {node.Id}."), false);
        }

        using var attempt = running.Register(claimed.Id, claimed.TimeoutSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : null, shutdown);
        using var reports = progress.Register(claimed, () => attempt.Stop(RunningJobs.StopReason.LeaseLost));
        var context = new JobContext(claimed, (percent, message) => reports.Report(percent, StorableText.Sanitize(message)));
        try
        {
            var value = await definition.RunAsync(claimed.Payload, context, services, attempt.Token);
            return (new AttemptResult(JobState.Succeeded, "succeeded", ResultJson: JobTypeDefinition.SerializeResult(value)), context.TextReplaced);
        }
        catch (Exception) when (attempt.Reason == RunningJobs.StopReason.Client)
        {
            return (new AttemptResult(JobState.Cancelled, "cancelled", "Cancelled by a client while it ran."), context.TextReplaced);
        }
        catch (Exception) when (attempt.Reason == RunningJobs.StopReason.LeaseLost)
        {
            logger.LogWarning("The lease was no longer current (the job was recovered by another node): this attempt stops and records nothing");
            return (null, false);
        }
        catch (OperationCanceledException) when (shutdown.IsCancellationRequested)
        {
            logger.LogWarning("Node is shutting down: the attempt is handed back for another node to run");
            throw;
        }
        catch (Exception ex) when (attempt.Token.IsCancellationRequested)
        {
            return (Retry(claimed, $"Timed out after {claimed.TimeoutSeconds} s ({ex.GetType().Name}).", "timed_out", null), context.TextReplaced);
        }
        catch (PermanentJobException ex)
        {
            return (new AttemptResult(JobState.Failed, "failed", ex.Message), context.TextReplaced);
        }
        catch (Exception ex)
        {
            logger.LogDebug(ex, "The handler threw");
            var error = ex is RetryableJobException ? ex.Message : $"{ex.GetType().Name}: {ex.Message}";
            return (Retry(claimed, error, "failed", (ex as RetryableJobException)?.RetryAfter), context.TextReplaced);
        }
    }

    private static AttemptResult Retry(Job claimed, string error, string outcome, TimeSpan? retryAfter)
    {
        if (claimed.Attempt >= claimed.MaxAttempts)
        {
            return new AttemptResult(JobState.Failed, outcome, $"Attempts exhausted ({claimed.MaxAttempts}); last error: {error}");
        }
        var delay = Backoff.Delay(claimed.BackoffSeconds, claimed.Attempt);
        if (retryAfter > delay) delay = retryAfter.Value;
        return new AttemptResult(JobState.Retrying, outcome, error, RetryAt: DateTimeOffset.UtcNow + delay);
    }
}
