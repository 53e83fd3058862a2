using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using Monolith.Worker.Blockers;
using Monolith.Api.Infrastructure.OpenApi;
using Monolith.Domain.Jobs;
using Monolith.Domain.Secrets;
using Monolith.Worker.Engine;

namespace Monolith.Api.Features.Jobs;

/// <summary>A job to run.</summary>
/// <param name="Type">The job type's kind, e.g. <c>noop</c>, <c>sleep</c>, <c>fail</c>.</param>
/// <param name="Payload">The type's payload, a JSON object; checked against the type's rules.</param>
/// <param name="Queue">critical, default or low (default: the type's queue).</param>
/// <param name="Priority">Higher starts first among due jobs of a queue, from -100 to 100 (default 0).</param>
/// <param name="RunAt">When to run, ISO 8601 with an offset; not with <paramref name="DelaySeconds"/>.</param>
/// <param name="DelaySeconds">Run this many seconds from now; not with <paramref name="RunAt"/>.</param>
/// <param name="MaxAttempts">Attempts before the job fails, 1 to 100 (default: the type's).</param>
/// <param name="TimeoutSeconds">Longest one attempt may run, 1 to 86,400 (default: the type's).</param>
/// <param name="BackoffSeconds">First retry's delay in seconds, doubled on each later one, 0 to 3,600 (default: the type's).</param>
/// <param name="ResultTtlSeconds">How long the result is kept after the job finishes, 1 to 2,592,000 (30 days); then it is deleted
/// and <c>resultExpired</c> is true (default: the type's; <c>http_request</c> 60, others keep their results).</param>
/// <param name="CallbackUrl">An absolute http(s) URL: when the job succeeds, fails for good or is cancelled, a signed JSON
/// event is POSTed there (docs/webhooks.md).</param>
/// <param name="UniqueKey">At most one job of this tenant with this key inside its <paramref name="UniqueScope"/> window: while
/// one is, a submit with the key returns that job (200) instead of creating another (docs/unique-jobs.md). 1 to 200 characters:
/// letters, digits and <c>-_.:/@</c>.</param>
/// <param name="UniqueScope">until_started (while the job has not started) or until_executed (until it succeeded, failed or
/// was cancelled; the default). Only with <paramref name="UniqueKey"/>.</param>
public sealed record SubmitJobRequest(
    string? Type,
    JsonElement? Payload,
    string? Queue = null,
    int? Priority = null,
    DateTimeOffset? RunAt = null,
    int? DelaySeconds = null,
    int? MaxAttempts = null,
    int? TimeoutSeconds = null,
    double? BackoffSeconds = null,
    int? ResultTtlSeconds = null,
    string? CallbackUrl = null,
    string? UniqueKey = null,
    [property: EnumValues(typeof(UniqueScopes), nameof(UniqueScopes.Names))] string? UniqueScope = null);

/// <summary>Jobs to submit together: 1 to 1,000, each as <c>POST /v1/jobs</c> takes it.</summary>
public sealed record SubmitJobBatchRequest([property: MaxLength(SubmitJobBatchRequestValidator.MaxJobs)] IReadOnlyList<SubmitJobRequest?>? Jobs);

/// <summary>The jobs' ids, in the order they were given (for a job whose unique key was held, the id of the job holding it).</summary>
public sealed record SubmitJobBatchResponse(IReadOnlyList<Guid> Ids);

/// <summary>A job as clients see it.</summary>
/// <param name="Result">What the job returned (decrypted for the caller when stored encrypted); null before it succeeds and once it expired.</param>
/// <param name="ResultExpiresAt">When the result will be (or was) deleted; null when it is kept.</param>
/// <param name="ResultExpired">True once the result's time to live has passed: it is deleted and never shown again.</param>
public sealed record JobResponse(
    Guid Id,
    string Type,
    string Queue,
    int Priority,
    [property: EnumValues(typeof(JobState))] string State,
    int Attempt,
    int MaxAttempts,
    JobProgressResponse? Progress,
    string? LastError,
    IReadOnlyList<JobAttemptResponse> Attempts,
    JsonElement? Result,
    DateTimeOffset CreatedAt,
    DateTimeOffset ScheduledAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    DateTimeOffset? CancelRequestedAt,
    DateTimeOffset? ResultExpiresAt,
    bool ResultExpired,
    string? CallbackUrl,
    string? UniqueKey,
    [property: EnumValues(typeof(UniqueScopes), nameof(UniqueScopes.Names))] string? UniqueScope)
{
    public static JobResponse From(Job job, JobSecrets secrets)
    {
        var now = DateTimeOffset.UtcNow;
        return new(
            job.Id,
            job.Type,
            job.Queue,
            job.Priority,
            JobQueries.EffectiveState(job, DateTimeOffset.UtcNow).ToName(),
            job.Attempt,
            job.MaxAttempts,
            job.ProgressPercent is null && job.ProgressMessage is null ? null : new JobProgressResponse(job.ProgressPercent ?? 0, job.ProgressMessage),
            job.LastError,
            job.Attempts.OrderBy(a => a.Id).Select(a => new JobAttemptResponse(a.Attempt, a.Node, a.Outcome, a.Error, a.StartedAt, a.FinishedAt)).ToList(),
            Reveal(job, secrets, now) is { } result ? JsonDocument.Parse(result).RootElement.Clone() : null,
            job.CreatedAt,
            job.ScheduledAt,
            job.StartedAt,
            job.FinishedAt,
            job.CancelRequestedAt,
            job.ResultExpiresAt,
            job.IsResultExpired(now),
            job.CallbackUrl,
            job.UniqueKey,
            job.UniqueScope?.ToName());
    }

    /// <summary>The result's JSON for the caller; null when there is none, it expired, or its key is no longer configured.</summary>
    private static string? Reveal(Job job, JobSecrets secrets, DateTimeOffset now)
    {
        try
        {
            return secrets.RevealResult(job, now);
        }
        catch (SecretUnreadableException)
        {
            return null;
        }
    }
}

/// <param name="Percent">0 to 100.</param>
public sealed record JobProgressResponse(int Percent, string? Message);

/// <summary>
/// The job of a dataset, transfer or sync, as far as the row's reader needs it; the whole job is at
/// <c>GET /v1/jobs/{id}</c>.
/// </summary>
public sealed record RowJobResponse(
    Guid Id, [property: EnumValues(typeof(JobState))] string State, int Attempt, int MaxAttempts, JobProgressResponse? Progress, string? LastError)
{
    public static RowJobResponse? From(Job? job, DateTimeOffset now) => job is null ? null : new RowJobResponse(
        job.Id,
        JobQueries.EffectiveState(job, now).ToName(),
        job.Attempt,
        job.MaxAttempts,
        job.ProgressPercent is null && job.ProgressMessage is null ? null : new JobProgressResponse(job.ProgressPercent ?? 0, job.ProgressMessage),
        job.LastError);
}

/// <summary>One finished attempt.</summary>
/// <param name="Outcome">succeeded, failed, cancelled, timed_out or lost.</param>
public sealed record JobAttemptResponse(
    int Attempt, string Node, [property: EnumValues("succeeded", "failed", "cancelled", "timed_out", "lost")] string Outcome, string? Error, DateTimeOffset StartedAt, DateTimeOffset FinishedAt);

/// <summary>One page of jobs, newest first.</summary>
/// <param name="NextCursor">Pass as <c>cursor</c> for the next page; null on the last page.</param>
public sealed record JobListResponse(IReadOnlyList<JobResponse> Items, string? NextCursor);

/// <summary>What holds a job back (<c>GET /v1/jobs/{id}/why</c>, docs/why.md).</summary>
/// <param name="State">The job's state as <c>GET /v1/jobs/{id}</c> shows it.</param>
/// <param name="Blockers">What holds it back, each with what would clear it; empty when nothing does.</param>
/// <param name="Running">While it runs: its node, since when, its last progress and the node's last check-in.</param>
public sealed record JobWhyResponse(
    Guid Id, [property: EnumValues(typeof(JobState))] string State, IReadOnlyList<JobBlockerResponse> Blockers, JobRunResponse? Running)
{
    public static JobWhyResponse From(JobWhy why) => new(
        why.Job.Id,
        why.State.ToName(),
        why.Blockers.Select(b => new JobBlockerResponse(b.Kind, b.Detail, b.ClearsWhen, b.Until, b.Since, b.By, b.Key, b.Limit, b.Running,
            b.HeldBy, b.Error, b.Attempt, b.Node, b.Nodes)).ToList(),
        why.Run is { } run ? new JobRunResponse(run.Node, run.Since, run.ProgressPercent is null && run.ProgressMessage is null
            ? null : new JobProgressResponse(run.ProgressPercent ?? 0, run.ProgressMessage), run.NodeLastCheckin, run.NodeLive) : null);
}

/// <summary>One thing holding a job back; the fields after <paramref name="ClearsWhen"/> are set when they apply to its kind.</summary>
/// <param name="Kind">Machine-readable: what holds the job (docs/why.md lists each and its fields).</param>
/// <param name="Detail">The same in a sentence.</param>
/// <param name="ClearsWhen">What would clear it: when it ends on its own, or who can act.</param>
/// <param name="Until">When it clears on its own (due time, end of a backoff, a dead node's recovery).</param>
/// <param name="Since">Since when it holds (a pause, a node's last check-in).</param>
/// <param name="By">Who paused the queue.</param>
/// <param name="Key">The full cap: queue:NAME, type:KIND or tenant.</param>
/// <param name="Limit">The cap, in jobs running at once.</param>
/// <param name="Running">Jobs running under the cap now (every tenant's, as a count).</param>
/// <param name="HeldBy">The caller's own running jobs under the cap (another tenant's are never listed), at most 20.</param>
/// <param name="Error">The failed attempt's error a retry waits after.</param>
/// <param name="Attempt">That attempt's number.</param>
/// <param name="Node">The node that stopped checking in.</param>
/// <param name="Nodes">The worker nodes: last check-in, live or not, running jobs and slots.</param>
public sealed record JobBlockerResponse(
    [property: EnumValues(typeof(JobBlockerKinds), nameof(JobBlockerKinds.All))] string Kind,
    string Detail,
    string ClearsWhen,
    DateTimeOffset? Until,
    DateTimeOffset? Since,
    string? By,
    string? Key,
    int? Limit,
    int? Running,
    IReadOnlyList<Guid>? HeldBy,
    string? Error,
    int? Attempt,
    string? Node,
    IReadOnlyList<NodeCheckin>? Nodes);

/// <summary>A running job's attempt.</summary>
/// <param name="Node">The node running it.</param>
/// <param name="Since">When this attempt started.</param>
/// <param name="Progress">Its last reported progress; null before the first report.</param>
/// <param name="NodeLastCheckin">That node's last cluster check-in; null when it has none.</param>
/// <param name="NodeLive">False once the check-in is late enough that peers recover the job.</param>
public sealed record JobRunResponse(string Node, DateTimeOffset? Since, JobProgressResponse? Progress, DateTimeOffset? NodeLastCheckin, bool NodeLive);
