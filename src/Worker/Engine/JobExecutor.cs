using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Monolith.Domain.Jobs;
using Monolith.Domain.Text;
using Monolith.Worker.Hosting;
using Prometheus;

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
/// </summary>
public sealed class JobExecutor(
    IServiceScopeFactory scopes,
    JobTypeRegistry types,
    RunningJobs running,
    JobSlots slots,
    AttemptRecorder recorder,
    ProgressWriter progress,
    JobSecrets secrets,
    NodeIdentity node,
    ILogger<JobExecutor> logger)
{
    /// <summary>
    /// Runs <paramref name="claimed"/> in one of the node's <see cref="JobSlots"/>, which the caller took for it and
    /// which is given back as soon as the handler returns; then waits until the outcome is written. Throws
    /// <see cref="OperationCanceledException"/> when the node shuts down mid-run: the row stays 'running' under its
    /// ticket, and the ticket's recovery re-runs it elsewhere.
    /// </summary>
    public async Task RunAsync(Job claimed, CancellationToken shutdown)
    {
        using var logScope = logger.BeginScope(new JobLogScope(claimed, node.Id));
        using var activity = JobTracing.StartExecution(claimed, node.Id);

        EngineMetrics.Started.WithLabels(claimed.Type, claimed.Queue).Inc();
        if (claimed.Attempt == 1 && claimed.StartedAt is { } started)
        {
            EngineMetrics.EnqueueToStart.WithLabels(claimed.Type, claimed.Queue).Observe(Math.Max(0, (started - claimed.ScheduledAt).TotalSeconds));
        }
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var leaseLost = new CancellationTokenSource();
        var reports = progress.Register(claimed, leaseLost.Cancel);
        var context = new JobContext(claimed, (percent, message) => reports.Report(percent, StorableText.Sanitize(message)));
        AttemptResult? result;
        try
        {
            using (EngineMetrics.Running.TrackInProgress())
            {
                result = await ExecuteAsync(claimed, context, leaseLost, shutdown);
            }
        }
        finally
        {
            reports.Dispose();
            slots.Release();
        }
        if (result is null) return;
        result = Storable(claimed, result, context.TextReplaced);
        EngineMetrics.Duration.WithLabels(claimed.Type).Observe(clock.Elapsed.TotalSeconds);
        EngineMetrics.Attempts.WithLabels(claimed.Type, result.Outcome).Inc();
        JobTracing.RecordOutcome(activity, result);

        if (await recorder.RecordAsync(claimed, result, shutdown))
        {
            if (result.NextState.IsTerminal()) EngineMetrics.Finished.WithLabels(claimed.Type, result.NextState.ToName()).Inc();
            else if (result.NextState == JobState.Retrying) EngineMetrics.Retries.WithLabels(claimed.Type).Inc();
            logger.LogInformation("Attempt ended {Outcome}; job is {State}", result.Outcome, result.NextState.ToName());
        }
        else
        {
            logger.LogWarning("Attempt ended {Outcome} but its lease was no longer current: the outcome was not recorded", result.Outcome);
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

    /// <returns>How the attempt ended (its result not yet encrypted), or null when there is nothing to record (the lease was lost).</returns>
    private async Task<AttemptResult?> ExecuteAsync(Job claimed, JobContext context, CancellationTokenSource leaseLost, CancellationToken shutdown)
    {
        if (claimed.CancelRequestedAt is not null)
        {
            return new AttemptResult(JobState.Cancelled, "cancelled", "Cancelled before it could run again.");
        }
        if (claimed.Attempt > claimed.MaxAttempts)
        {
            return new AttemptResult(JobState.Failed, "failed",
                $"Attempts exhausted ({claimed.MaxAttempts}): the last attempt's node stopped before it finished.");
        }
        var definition = types.Find(claimed.Type);
        if (definition is null)
        {
            return new AttemptResult(JobState.Failed, "failed", $"No job type '{claimed.Type}' is registered on node {node.Id}.");
        }

        using var registration = running.Register(claimed.Id);
        using var timeout = claimed.TimeoutSeconds is { } seconds
            ? new CancellationTokenSource(TimeSpan.FromSeconds(seconds))
            : new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(
            shutdown, registration.CancelToken, timeout.Token, leaseLost.Token);

        logger.LogInformation("Attempt {Attempt} of {MaxAttempts} started", claimed.Attempt, claimed.MaxAttempts);
        try
        {
            await using var handlerScope = scopes.CreateAsyncScope();
            var value = await definition.RunAsync(claimed.Payload, context, handlerScope.ServiceProvider, linked.Token);
            return new AttemptResult(JobState.Succeeded, "succeeded", ResultJson: JobTypeDefinition.SerializeResult(value));
        }
        catch (Exception ex) when (registration.CancelToken.IsCancellationRequested)
        {
            logger.LogInformation("Cancelled by a client ({ExceptionType})", ex.GetType().Name);
            return new AttemptResult(JobState.Cancelled, "cancelled", "Cancelled by a client while it ran.");
        }
        catch (Exception) when (leaseLost.IsCancellationRequested)
        {
            logger.LogWarning("The lease was no longer current (the job was recovered by another node): this attempt stops and records nothing");
            return null;
        }
        catch (OperationCanceledException) when (shutdown.IsCancellationRequested)
        {
            logger.LogWarning("Node is shutting down: the attempt is handed back for another node to run");
            throw;
        }
        catch (Exception ex) when (timeout.IsCancellationRequested)
        {
            logger.LogWarning("Timed out after {TimeoutSeconds} s ({ExceptionType})", claimed.TimeoutSeconds, ex.GetType().Name);
            return Retry(claimed, $"Timed out after {claimed.TimeoutSeconds} s.", "timed_out", null);
        }
        catch (PermanentJobException ex)
        {
            logger.LogWarning("Failed permanently: {Error}", ex.Message);
            return new AttemptResult(JobState.Failed, "failed", ex.Message);
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Failed with a retryable error");
            var error = ex is RetryableJobException ? ex.Message : $"{ex.GetType().Name}: {ex.Message}";
            return Retry(claimed, error, "failed", (ex as RetryableJobException)?.RetryAfter);
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
