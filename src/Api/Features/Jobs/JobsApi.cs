using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Monolith.Api.Infrastructure;
using Monolith.Domain.Jobs;
using Monolith.Worker.Engine;

namespace Monolith.Api.Features.Jobs;

public static class JobsApi
{
    public static RouteGroupBuilder MapJobsApi(this IEndpointRouteBuilder routes)
    {
        var jobs = routes.MapGroup("/v1/jobs").WithTags("Jobs").RequireAuthorization();

        jobs.MapPost("/", SubmitJob).WithName("SubmitJob").WithValidation<SubmitJobRequest>()
            .ProducesProblem(StatusCodes.Status409Conflict)
            .WithSummary("Submit a job")
            .WithDescription("Stores the job and schedules it; 202 with its id. With an Idempotency-Key header, the same key " +
                             "and body return the job already created (200); the same key with another body is a 409.");
        jobs.MapPost("/batch", SubmitJobBatch).WithName("SubmitJobBatch").WithValidation<SubmitJobBatchRequest>()
            .WithSummary("Submit up to 1,000 jobs at once")
            .WithDescription("Each job as POST /v1/jobs takes it (no Idempotency-Key). All are stored in one transaction, or none " +
                             "is: one invalid job rejects the whole batch with a 400 naming it (jobs[3].payload.ms). 202 with the " +
                             "new jobs' ids in the order given.");
        jobs.MapGet("/{id:guid}", GetJob).WithName("GetJob").ProducesProblem(StatusCodes.Status404NotFound).WithSummary("A job's state, progress, attempts and result");
        jobs.MapGet("/", ListJobs).WithName("ListJobs").WithSummary("List jobs, newest first, with cursor paging");
        jobs.MapPost("/{id:guid}/cancel", CancelJob).WithName("CancelJob").ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .WithSummary("Cancel a job: a waiting one never starts; a running one is stopped on whichever node runs it");
        jobs.MapPost("/{id:guid}/retry", RetryJob).WithName("RetryJob").ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict).WithSummary("Run a failed or cancelled job again");
        return jobs;
    }

    /// <summary>Longest Idempotency-Key accepted.</summary>
    public const int MaxIdempotencyKeyLength = 200;

    public static async Task<Results<Accepted<JobResponse>, Ok<JobResponse>, ValidationProblem, ProblemHttpResult>> SubmitJob(
        SubmitJobRequest request,
        [FromHeader(Name = "Idempotency-Key")] string? idempotencyKey,
        ClaimsPrincipal user,
        JobTypeRegistry types,
        JobClient client,
        CancellationToken ct)
    {
        if (idempotencyKey?.Trim().Length > MaxIdempotencyKeyLength)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["Idempotency-Key"] = [$"At most {MaxIdempotencyKeyLength} characters."],
            });
        }
        var key = string.IsNullOrWhiteSpace(idempotencyKey) ? null : idempotencyKey.Trim();
        var newJob = ToNewJob(request, user.TenantId(), types, DateTimeOffset.UtcNow, key);

        var outcome = await client.SubmitAsync(newJob, ct);
        var response = JobResponse.From(outcome.Job);
        return outcome.Status switch
        {
            SubmitStatus.Created => TypedResults.Accepted($"/v1/jobs/{outcome.Job.Id}", response),
            SubmitStatus.Replayed => TypedResults.Ok(response),
            _ => TypedResults.Problem(
                title: "Idempotency-Key already used with another request.",
                detail: $"Job {outcome.Job.Id} was created with this key from a different body. Use a new key for a new job.",
                statusCode: StatusCodes.Status409Conflict),
        };
    }

    public static async Task<Accepted<SubmitJobBatchResponse>> SubmitJobBatch(
        SubmitJobBatchRequest request, ClaimsPrincipal user, JobTypeRegistry types, JobClient client, CancellationToken ct)
    {
        var now = DateTimeOffset.UtcNow;
        var tenant = user.TenantId();
        var jobs = await client.SubmitBatchAsync(request.Jobs!.Select(j => ToNewJob(j!, tenant, types, now, idempotencyKey: null)).ToList(), ct);
        return TypedResults.Accepted((string?)null, new SubmitJobBatchResponse(jobs.Select(j => j.Id).ToList()));
    }

    /// <summary>A validated request with the job type's defaults applied.</summary>
    private static NewJob ToNewJob(SubmitJobRequest request, Guid tenantId, JobTypeRegistry types, DateTimeOffset now, string? idempotencyKey)
    {
        var definition = types.Find(request.Type!)!;
        return new NewJob(
            TenantId: tenantId,
            Type: definition.Kind,
            PayloadJson: request.Payload!.Value.GetRawText(),
            Queue: request.Queue ?? definition.Defaults.Queue,
            Priority: request.Priority ?? 0,
            RunAt: request.RunAt ?? now.AddSeconds(request.DelaySeconds ?? 0),
            MaxAttempts: request.MaxAttempts ?? definition.Defaults.MaxAttempts,
            TimeoutSeconds: request.TimeoutSeconds ?? definition.Defaults.TimeoutSeconds,
            BackoffSeconds: request.BackoffSeconds ?? definition.Defaults.BackoffSeconds,
            IdempotencyKey: idempotencyKey,
            CallbackUrl: request.CallbackUrl,
            // What an Idempotency-Key replay compares: only needed when there is a key.
            RequestHash: idempotencyKey is null ? null
                : Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(request)))));
    }

    public static async Task<Results<Ok<JobResponse>, ProblemHttpResult>> GetJob(
        Guid id, ClaimsPrincipal user, JobQueries queries, CancellationToken ct) =>
        await queries.GetAsync(user.TenantScope(), id, ct) is { } job
            ? TypedResults.Ok(JobResponse.From(job))
            : JobNotFound(id);

    /// <param name="state">scheduled, queued, running, retrying, succeeded, failed or cancelled.</param>
    /// <param name="type">A job type's kind.</param>
    /// <param name="queue">A queue name.</param>
    /// <param name="cursor">The <c>nextCursor</c> of the previous page.</param>
    /// <param name="limit">Page size, 1 to 200 (default 50).</param>
    public static async Task<Results<Ok<JobListResponse>, ValidationProblem>> ListJobs(
        string? state, string? type, string? queue, string? cursor, int? limit,
        ClaimsPrincipal user, JobQueries queries, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        JobState? stateFilter = null;
        if (state is not null)
        {
            if (JobStates.TryParse(state, out var parsed)) stateFilter = parsed;
            else errors["state"] = [$"Unknown state. States: {string.Join(", ", Enum.GetValues<JobState>().Select(s => s.ToName()))}."];
        }
        Guid? after = null;
        if (cursor is not null)
        {
            if (Guid.TryParse(cursor, out var parsed)) after = parsed;
            else errors["cursor"] = ["Not a cursor from a previous page."];
        }
        if (limit is < 1 or > JobQueries.MaxPageSize) errors["limit"] = [$"Must be between 1 and {JobQueries.MaxPageSize}."];
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors);

        var pageSize = limit ?? 50;
        var page = await queries.ListAsync(user.TenantScope(), new JobFilter(stateFilter, type, queue), after, pageSize, ct);
        var next = page.Count == pageSize ? page[^1].Id.ToString() : null;
        return TypedResults.Ok(new JobListResponse(page.Select(JobResponse.From).ToList(), next));
    }

    public static async Task<Results<Accepted<JobResponse>, ProblemHttpResult>> CancelJob(
        Guid id, ClaimsPrincipal user, JobClient client, CancellationToken ct)
    {
        var outcome = await client.CancelAsync(user.TenantScope(), id, ct);
        return outcome.Status switch
        {
            CommandStatus.NotFound => JobNotFound(id),
            CommandStatus.Conflict => Conflict($"Job {id} has already finished ({outcome.Job!.State.ToName()}); there is nothing to cancel."),
            _ => TypedResults.Accepted($"/v1/jobs/{id}", JobResponse.From(outcome.Job!)),
        };
    }

    public static async Task<Results<Accepted<JobResponse>, ProblemHttpResult>> RetryJob(
        Guid id, ClaimsPrincipal user, JobClient client, CancellationToken ct)
    {
        var outcome = await client.RetryAsync(user.TenantScope(), id, ct);
        return outcome.Status switch
        {
            CommandStatus.NotFound => JobNotFound(id),
            CommandStatus.Conflict => Conflict($"Job {id} is {outcome.Job!.State.ToName()}: only a failed or cancelled job can be retried."),
            _ => TypedResults.Accepted($"/v1/jobs/{id}", JobResponse.From(outcome.Job!)),
        };
    }

    private static ProblemHttpResult JobNotFound(Guid id) => TypedResults.Problem(
        title: "Job not found.", detail: $"No job {id} is visible to this API key.", statusCode: StatusCodes.Status404NotFound);

    private static ProblemHttpResult Conflict(string detail) => TypedResults.Problem(
        title: "The job is not in a state that allows this.", detail: detail, statusCode: StatusCodes.Status409Conflict);
}
