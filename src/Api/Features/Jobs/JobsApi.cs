using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Monolith.Worker.Blockers;
using Monolith.Api.Infrastructure;
using Monolith.Api.Infrastructure.OpenApi;
using Monolith.Domain.Jobs;
using Monolith.Domain.Secrets;
using Monolith.Domain.Text;
using Monolith.Worker.Engine;

namespace Monolith.Api.Features.Jobs;

public static class JobsApi
{
    public static RouteGroupBuilder MapJobsApi(this IEndpointRouteBuilder routes)
    {
        var jobs = routes.MapGroup("/v1/jobs").WithTags("Jobs").RequireAuthorization();

        jobs.MapPost("/", SubmitJob).WithName("SubmitJob").WithValidation<SubmitJobRequest>()
            .ProducesProblem(StatusCodes.Status409Conflict).WithParameterFacts("Idempotency-Key", maxLength: MaxIdempotencyKeyLength)
            .WithSummary("Submit a job")
            .WithDescription("Stores the job and schedules it; 202 with its id. With an Idempotency-Key header, the same key " +
                             "and body return the job already created (200); the same key with another body is a 409. With a " +
                             "uniqueKey held by another job of the tenant inside its uniqueScope window, that job (200), and nothing new.");
        jobs.MapPost("/batch", SubmitJobBatch).WithName("SubmitJobBatch").WithValidation<SubmitJobBatchRequest>()
            .WithSummary("Submit up to 1,000 jobs at once")
            .WithDescription("Each job as POST /v1/jobs takes it (no Idempotency-Key). All are stored in one transaction, or none " +
                             "is: one invalid job rejects the whole batch with a 400 naming it (jobs[3].payload.ms). 202 with the " +
                             "jobs' ids in the order given; a job whose uniqueKey is held (by an earlier job, or an earlier one of the " +
                             "batch) is not stored, and its place holds the holder's id.");
        jobs.MapGet("/{id:guid}", GetJob).WithName("GetJob").ProducesProblem(StatusCodes.Status404NotFound).WithParameterFacts("wait", minimum: 0)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .WithSummary("A job's state, progress, attempts and result")
            .WithDescription("With wait=N the answer is held until the job is finished (succeeded, failed or cancelled) or N seconds " +
                             "have passed (at most Jobs:MaxWaitSeconds, 60 by default), whichever comes first; then the job as it is. " +
                             "A node holds at most Jobs:MaxWaitersPerTenant waiting requests (wait and events) per tenant and " +
                             "Jobs:MaxWaiters in all: past either, 429 with Retry-After.");
        jobs.MapGet("/{id:guid}/events", StreamJobEvents).WithName("StreamJobEvents").ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .WithSummary("A job's changes as server-sent events")
            .WithDescription("text/event-stream: a 'state' event (the job, as GET returns it) now and on every change of state, a " +
                             "'progress' event ({percent, message}) on every change of progress; the stream ends after the event of a " +
                             "finished state, or after Jobs:MaxStreamSeconds (600 by default) with a 'state' event of the job as it is " +
                             "(reconnect to watch on). Works whichever node runs the job. Counts as a waiting request, as wait=N " +
                             "does: past a cap, 429 with Retry-After.");
        jobs.MapGet("/{id:guid}/why", ExplainJob).WithName("ExplainJob").ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("What holds a job back, or how its run stands")
            .WithDescription("For a waiting job, a list of blockers, each with a machine-readable kind (due_later, retry_backoff, " +
                             "queue_paused, queue_cap_full, type_cap_full, tenant_cap_full, rate_limited, no_live_worker, no_free_slot), its " +
                             "details and what would clear it; empty when nothing holds it (it starts at the next claim). For a " +
                             "running job, its node, since when, its last progress and that node's last check-in (and a " +
                             "node_not_checking_in blocker when the node stopped). A finished job has none. docs/why.md.");
        jobs.MapGet("/", ListJobs).WithName("ListJobs").WithSummary("List jobs, newest first, with cursor paging")
            .WithParameterFacts("state", values: EnumValuesAttribute.NamesOf<JobState>())
            .WithParameterFacts("limit", minimum: 1, maximum: JobQueries.MaxPageSize);
        jobs.MapPost("/{id:guid}/cancel", CancelJob).WithName("CancelJob").ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .WithSummary("Cancel a job: a waiting one never starts; a running one is stopped on whichever node runs it");
        jobs.MapPost("/{id:guid}/retry", RetryJob).WithName("RetryJob").ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict).WithSummary("Run a failed or cancelled job again");
        jobs.MapDelete("/{id:guid}", DeleteJob).WithName("DeleteJob").ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .WithSummary("Delete a finished job (succeeded, failed or cancelled) and its attempts; 409 while it is waiting or running");
        return jobs;
    }

    /// <summary>Longest Idempotency-Key accepted.</summary>
    public const int MaxIdempotencyKeyLength = 200;

    /// <summary>The purpose the idempotency request hash is keyed for (<see cref="KeyedHash"/>).</summary>
    public const string RequestHashPurpose = "idempotency request";

    public static async Task<Results<Accepted<JobResponse>, Ok<JobResponse>, ValidationProblem, ProblemHttpResult>> SubmitJob(
        SubmitJobRequest request,
        [FromHeader(Name = "Idempotency-Key")] string? idempotencyKey,
        ClaimsPrincipal user,
        JobTypeRegistry types,
        JobSecrets secrets,
        KeyedHash hasher,
        JobClient client,
        IServiceProvider services,
        CancellationToken ct)
    {
        if (idempotencyKey?.Trim().Length > MaxIdempotencyKeyLength)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["Idempotency-Key"] = [$"At most {MaxIdempotencyKeyLength} characters."],
            });
        }
        if (!StorableText.IsStorable(idempotencyKey))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["Idempotency-Key"] = [StorableText.Reason] });
        }
        var failures = await types.Find(request.Type!)!.CheckAsync(request.Payload!.Value, user.TenantId(), services, ct);
        if (failures.Count > 0) return TypedResults.ValidationProblem(failures);
        var key = string.IsNullOrWhiteSpace(idempotencyKey) ? null : idempotencyKey.Trim();
        var newJob = ToNewJob(request, user.TenantId(), types, secrets, DateTimeOffset.UtcNow, key);
        if (key is not null) newJob = WithRequestHash(newJob, request, hasher);

        var outcome = await client.SubmitAsync(newJob, ct);
        var response = JobResponse.From(outcome.Job, secrets);
        return outcome.Status switch
        {
            SubmitStatus.Created => TypedResults.Accepted($"/v1/jobs/{outcome.Job.Id}", response),
            SubmitStatus.Replayed or SubmitStatus.UniqueKeyHeld => TypedResults.Ok(response),
            _ => TypedResults.Problem(
                title: "Idempotency-Key already used with another request.",
                detail: $"Job {outcome.Job.Id} was created with this key from a different body. Use a new key for a new job.",
                statusCode: StatusCodes.Status409Conflict),
        };
    }

    public static async Task<Results<Accepted<SubmitJobBatchResponse>, ValidationProblem>> SubmitJobBatch(
        SubmitJobBatchRequest request, ClaimsPrincipal user, JobTypeRegistry types, JobSecrets secrets, JobClient client,
        IServiceProvider services, CancellationToken ct)
    {
        var now = DateTimeOffset.UtcNow;
        var tenant = user.TenantId();
        var failures = new Dictionary<string, string[]>();
        for (var i = 0; i < request.Jobs!.Count; i++)
        {
            foreach (var (path, messages) in await types.Find(request.Jobs[i]!.Type!)!.CheckAsync(request.Jobs[i]!.Payload!.Value, tenant, services, ct))
            {
                failures[$"jobs[{i}].{path}"] = messages;
            }
        }
        if (failures.Count > 0) return TypedResults.ValidationProblem(failures);
        var jobs = await client.SubmitBatchAsync(request.Jobs!.Select(j => ToNewJob(j!, tenant, types, secrets, now, idempotencyKey: null)).ToList(), ct);
        return TypedResults.Accepted((string?)null, new SubmitJobBatchResponse(jobs.Select(j => j.Id).ToList()));
    }

    /// <summary>A validated request as a job of its type (<see cref="JobTypeDefinition.NewJob"/>: defaults, secrets encrypted).</summary>
    private static NewJob ToNewJob(
        SubmitJobRequest request, Guid tenantId, JobTypeRegistry types, JobSecrets secrets, DateTimeOffset now, string? idempotencyKey) =>
        types.Find(request.Type!)!.NewJob(tenantId, request.Payload!.Value, secrets, new JobSettings(
            Queue: request.Queue,
            Priority: request.Priority,
            RunAt: request.RunAt ?? now.AddSeconds(request.DelaySeconds ?? 0),
            MaxAttempts: request.MaxAttempts,
            TimeoutSeconds: request.TimeoutSeconds,
            BackoffSeconds: request.BackoffSeconds,
            ResultTtlSeconds: request.ResultTtlSeconds,
            CallbackUrl: request.CallbackUrl,
            IdempotencyKey: idempotencyKey,
            UniqueKey: request.UniqueKey,
            UniqueScope: UniqueScopes.TryParse(request.UniqueScope, out var scope) ? scope : null), now);

    /// <summary>
    /// What an Idempotency-Key replay compares: the request keyed-hashed (<see cref="KeyedHash"/>: a plain hash of a
    /// request holding secrets would let a reader of the database confirm guesses). A replay matches the hash under the
    /// current key, under any other configured key (stored before a rotation), or the plain SHA-256 that hashes stored
    /// before keyed hashing hold (compared, never stored: drop it once those jobs are gone).
    /// </summary>
    private static NewJob WithRequestHash(NewJob job, SubmitJobRequest request, KeyedHash hasher)
    {
        var canonical = JsonSerializer.SerializeToUtf8Bytes(request);
        var keyed = hasher.ComputeUnderEveryKey(canonical, RequestHashPurpose);
        return job with { RequestHash = keyed[0], SameRequestHashes = [.. keyed, Convert.ToHexStringLower(SHA256.HashData(canonical))] };
    }

    /// <param name="wait">Seconds to hold the answer until the job is finished (0 to Jobs:MaxWaitSeconds; more is cut to it).</param>
    public static async Task<Results<Ok<JobResponse>, ValidationProblem, ProblemHttpResult>> GetJob(
        Guid id, int? wait, ClaimsPrincipal user, JobQueries queries, JobSecrets secrets, JobWaiters waiters,
        WaitingRequests waiting, HttpResponse response, IOptions<JobsOptions> options, CancellationToken ct)
    {
        if (wait is < 0)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["wait"] = [$"Seconds to wait, 0 to {options.Value.MaxWaitSeconds} (more is cut to {options.Value.MaxWaitSeconds})."],
            });
        }
        Job? job;
        if (wait is > 0)
        {
            using var place = waiting.TryEnter(user.TenantId(), out var refusal);
            if (place is null) return TooManyWaiting(response, refusal);
            job = await WaitUntilFinishedAsync(id, user.TenantScope(), TimeSpan.FromSeconds(Math.Min(wait.Value, options.Value.MaxWaitSeconds)), queries, waiters, ct);
        }
        else
        {
            job = await queries.GetAsync(user.TenantScope(), id, ct);
        }
        return job is null ? JobNotFound(id) : TypedResults.Ok(JobResponse.From(job, secrets));
    }

    /// <summary>
    /// Reads the job until it is finished or <paramref name="wait"/> has passed. It reads again when a notification
    /// says the job changed (<see cref="JobWaiters"/>, whichever node changed it); every <see cref="JobWaiters.Recheck"/>
    /// (<c>Worker:WaiterRecheckSeconds</c>) without one it reads the row's version, and the job only if that changed. So
    /// nothing is polled in a tight loop, a lost notification costs at most that, and a quiet wait costs one small read
    /// per re-check.
    /// </summary>
    private static async Task<Job?> WaitUntilFinishedAsync(
        Guid id, Guid? tenant, TimeSpan wait, JobQueries queries, JobWaiters waiters, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + wait;
        using var waiter = waiters.Watch(id); // before the first read: a change between the read and the wait still wakes it
        var version = await queries.VersionAsync(id, ct);
        var job = await queries.GetAsync(tenant, id, ct);
        while (job is not null && !job.State.IsTerminal())
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) break;
            var notified = await waiter.WaitAsync(left, ct);
            var current = await queries.VersionAsync(id, ct);
            if (!notified && current == version) continue;
            version = current;
            job = await queries.GetAsync(tenant, id, ct);
        }
        return job;
    }

    public static async Task<Results<ServerSentEventsResult<object>, ProblemHttpResult>> StreamJobEvents(
        Guid id, ClaimsPrincipal user, JobQueries queries, JobSecrets secrets, JobWaiters waiters, WaitingRequests waiting,
        HttpResponse response, IOptions<JobsOptions> options, CancellationToken ct)
    {
        var place = waiting.TryEnter(user.TenantId(), out var refusal);
        if (place is null) return TooManyWaiting(response, refusal);
        // Both are held until the response has ended, however it ends (the last event, a disconnect, an error).
        response.RegisterForDispose(place);
        var waiter = waiters.Watch(id); // before the first read, as for ?wait=
        response.RegisterForDispose(waiter);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(options.Value.MaxStreamSeconds);
        var version = await queries.VersionAsync(id, ct);
        return await queries.GetAsync(user.TenantScope(), id, ct) is { } first
            ? TypedResults.ServerSentEvents(JobEventsAsync(first, version, deadline, user.TenantScope(), queries, secrets, waiter, ct))
            : JobNotFound(id);
    }

    /// <summary>
    /// The events of one job: its state now, then each change of progress and state, until a finished state or
    /// <paramref name="deadline"/>, when a last <c>state</c> event gives the job as it is. Woken and re-checked as
    /// <see cref="WaitUntilFinishedAsync"/> is; changes that happen between two reads fold into one event.
    /// </summary>
    private static async IAsyncEnumerable<SseItem<object>> JobEventsAsync(
        Job job, long? version, DateTime deadline, Guid? tenant, JobQueries queries, JobSecrets secrets, JobWaiters.Waiter waiter,
        [EnumeratorCancellation] CancellationToken ct)
    {
        string? state = null;
        (int?, string?) progress = (null, null);
        var last = false;
        while (true)
        {
            var response = JobResponse.From(job, secrets);
            if ((job.ProgressPercent, job.ProgressMessage) != progress && response.Progress is { } current)
            {
                progress = (job.ProgressPercent, job.ProgressMessage);
                yield return new SseItem<object>(current, "progress");
            }
            if (response.State != state || last)
            {
                state = response.State;
                yield return new SseItem<object>(response, "state");
            }
            if (job.State.IsTerminal() || last) yield break;
            var notified = await waiter.WaitAsync(deadline - DateTime.UtcNow, ct); // until a notification, the re-check or the end
            last = DateTime.UtcNow >= deadline;
            var latest = await queries.VersionAsync(job.Id, ct);
            if (!notified && latest == version) continue;
            version = latest;
            job = await queries.GetAsync(tenant, job.Id, ct) ?? job;
        }
    }

    public static async Task<Results<Ok<JobWhyResponse>, ProblemHttpResult>> ExplainJob(
        Guid id, ClaimsPrincipal user, JobBlockers blockers, CancellationToken ct) =>
        await blockers.ExplainAsync(user.TenantScope(), id, ct) is { } why ? TypedResults.Ok(JobWhyResponse.From(why)) : JobNotFound(id);

    /// <param name="state">scheduled, queued, running, retrying, succeeded, failed or cancelled.</param>
    /// <param name="type">A job type's kind.</param>
    /// <param name="queue">A queue name.</param>
    /// <param name="cursor">The <c>nextCursor</c> of the previous page.</param>
    /// <param name="limit">Page size, 1 to 200 (default 50).</param>
    public static async Task<Results<Ok<JobListResponse>, ValidationProblem>> ListJobs(
        string? state, string? type, string? queue, string? cursor, int? limit,
        ClaimsPrincipal user, JobQueries queries, JobSecrets secrets, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        JobState? stateFilter = null;
        if (state is not null)
        {
            if (JobStates.TryParse(state, out var parsed)) stateFilter = parsed;
            else errors["state"] = [$"Unknown state. States: {string.Join(", ", Enum.GetValues<JobState>().Select(s => s.ToName()))}."];
        }
        var paging = PageRequest.Read(cursor, limit, JobQueries.MaxPageSize, errors);
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors);

        var page = await queries.ListAsync(user.TenantScope(), new JobFilter(stateFilter, type, queue), paging.After, paging.Size, ct);
        var next = paging.NextCursor(page, row => row.Id);
        return TypedResults.Ok(new JobListResponse(page.Select(j => JobResponse.From(j, secrets)).ToList(), next));
    }

    public static async Task<Results<Accepted<JobResponse>, ProblemHttpResult>> CancelJob(
        Guid id, ClaimsPrincipal user, JobClient client, JobSecrets secrets, CancellationToken ct)
    {
        var outcome = await client.CancelAsync(user.TenantScope(), id, ct);
        return outcome.Status switch
        {
            CommandStatus.NotFound => JobNotFound(id),
            CommandStatus.Conflict => Conflict($"Job {id} has already finished ({outcome.Job!.State.ToName()}); there is nothing to cancel."),
            _ => TypedResults.Accepted($"/v1/jobs/{id}", JobResponse.From(outcome.Job!, secrets)),
        };
    }

    public static async Task<Results<Accepted<JobResponse>, ProblemHttpResult>> RetryJob(
        Guid id, ClaimsPrincipal user, JobClient client, JobSecrets secrets, CancellationToken ct)
    {
        var outcome = await client.RetryAsync(user.TenantScope(), id, ct);
        return outcome.Status switch
        {
            CommandStatus.NotFound => JobNotFound(id),
            CommandStatus.Conflict when outcome.Job!.State is JobState.Failed or JobState.Cancelled => Conflict(
                $"Job {id}'s unique key '{outcome.Job.UniqueKey}' is held by another job now: a new run would be a second one. Retry once that job has ended."),
            CommandStatus.Conflict => Conflict($"Job {id} is {outcome.Job!.State.ToName()}: only a failed or cancelled job can be retried."),
            _ => TypedResults.Accepted($"/v1/jobs/{id}", JobResponse.From(outcome.Job!, secrets)),
        };
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteJob(
        Guid id, ClaimsPrincipal user, JobClient client, CancellationToken ct)
    {
        var outcome = await client.DeleteAsync(user.TenantScope(), id, ct);
        return outcome.Status switch
        {
            CommandStatus.NotFound => JobNotFound(id),
            CommandStatus.Conflict => Conflict($"Job {id} is {outcome.Job!.State.ToName()}: only a finished job can be deleted; cancel it first."),
            _ => TypedResults.NoContent(),
        };
    }

    /// <summary>429 with <c>Retry-After</c>: a cap of <see cref="WaitingRequests"/> is full.</summary>
    private static ProblemHttpResult TooManyWaiting(HttpResponse response, string refusal)
    {
        response.Headers.RetryAfter = ((int)WaitingRequests.RetryAfter.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return TypedResults.Problem(
            title: "Too many requests waiting on jobs.",
            detail: refusal + " Try again later, or read the job without wait.",
            statusCode: StatusCodes.Status429TooManyRequests);
    }

    private static ProblemHttpResult JobNotFound(Guid id) => TypedResults.Problem(
        title: "Job not found.", detail: $"No job {id} is visible to this API key.", statusCode: StatusCodes.Status404NotFound);

    private static ProblemHttpResult Conflict(string detail) => TypedResults.Problem(
        title: "The job is not in a state that allows this.", detail: detail, statusCode: StatusCodes.Status409Conflict);
}
