using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Monolith.Api.Infrastructure;
using Monolith.Api.Infrastructure.OpenApi;
using Monolith.Domain.Jobs;
using Monolith.Domain.Syncs;
using Monolith.Worker.Engine;
using Monolith.Worker.Jobs.Syncs;

namespace Monolith.Api.Features.Syncs;

/// <summary>Record syncs: copy an external JSON API's records into a snapshot with a <c>sync_records</c> job (docs/syncs.md).</summary>
public static class SyncsApi
{

    public static RouteGroupBuilder MapSyncsApi(this IEndpointRouteBuilder routes)
    {
        var syncs = routes.MapGroup("/v1/syncs").WithTags("Syncs").RequireAuthorization();

        syncs.MapPost("/", CreateSync).WithName("CreateSync").WithValidation<CreateSyncRequest>()
            .WithSummary("Start copying a JSON API's records into a snapshot (a sync_records job)")
            .WithDescription("Pages through the source (page numbers, a cursor, or next links), upserting each page's records and its " +
                             "checkpoint in one transaction, within the source's rate limit. Header values are encrypted at rest and " +
                             "never shown. 202 with the sync id, the job id and a Location header.");
        syncs.MapGet("/", ListSyncs).WithName("ListSyncs").ProducesValidationProblem()
            .WithParameterFacts("limit", minimum: 1, maximum: SyncQueries.MaxPageSize)
            .WithSummary("List syncs, newest first, with cursor paging (optionally one snapshot's)");
        syncs.MapGet("/{id:guid}", GetSync).WithName("GetSync").ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("A sync's state, pages fetched, records upserted, progress, ETA, checkpoint and error");
        syncs.MapPost("/{id:guid}/cancel", CancelSync).WithName("CancelSync")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .WithSummary("Stop a sync between pages; the pages committed so far stay in the snapshot");
        syncs.MapPost("/{id:guid}/retry", RetrySync).WithName("RetrySync")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .WithSummary("Run a failed or cancelled sync again: it resumes from its checkpoint");
        return syncs;
    }

    public static async Task<Results<Accepted<SyncCreatedResponse>, ValidationProblem>> CreateSync(
        CreateSyncRequest request, ClaimsPrincipal user, SyncCommands commands, CancellationToken ct)
    {
        var outcome = await commands.CreateAsync(user.TenantId(), request.ToNewSync(), ct);
        if (outcome.Status == CommandStatus.Invalid) return TypedResults.ValidationProblem(new Dictionary<string, string[]>(outcome.Errors!));
        var sync = outcome.Row!;
        return TypedResults.Accepted($"/v1/syncs/{sync.Id}",
            new SyncCreatedResponse(sync.Id, outcome.Job!.Id, sync.Snapshot, SyncStatuses.Of(sync, outcome.Job, DateTimeOffset.UtcNow).ToName()));
    }

    public static async Task<Results<Ok<SyncResponse>, ProblemHttpResult>> GetSync(
        Guid id, ClaimsPrincipal user, SyncQueries syncs, JobQueries jobs, CancellationToken ct)
    {
        var sync = await syncs.GetAsync(user.TenantScope(), id, ct);
        if (sync is null) return NotFound(id);
        var job = sync.JobId is { } jobId ? await jobs.GetAsync(user.TenantScope(), jobId, ct) : null;
        return TypedResults.Ok(SyncResponse.From(sync, job, DateTimeOffset.UtcNow));
    }

    /// <param name="snapshot">Only this snapshot's syncs.</param>
    /// <param name="cursor">The <c>nextCursor</c> of the previous page.</param>
    /// <param name="limit">Page size, 1 to 200 (default 50).</param>
    public static async Task<Results<Ok<SyncListResponse>, ValidationProblem>> ListSyncs(
        string? snapshot, string? cursor, int? limit, ClaimsPrincipal user, SyncQueries syncs, JobQueries jobQueries, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        var paging = PageRequest.Read(cursor, limit, SyncQueries.MaxPageSize, errors);
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors);

        var page = await syncs.ListAsync(user.TenantScope(), snapshot, paging.After, paging.Size, ct);
        var jobs = await jobQueries.ByIdsAsync(page.Select(s => s.JobId), ct);
        var now = DateTimeOffset.UtcNow;
        var next = paging.NextCursor(page, row => row.Id);
        return TypedResults.Ok(new SyncListResponse(
            page.Select(s => SyncResponse.From(s, s.JobId is { } jobId ? jobs.GetValueOrDefault(jobId) : null, now)).ToList(), next));
    }

    public static async Task<Results<Accepted<SyncResponse>, ProblemHttpResult>> CancelSync(
        Guid id, ClaimsPrincipal user, SyncCommands commands, CancellationToken ct) =>
        Answer(id, await commands.CancelAsync(user.TenantScope(), id, ct), "The sync has finished.", $"Sync {id} is no longer running or waiting to run.");

    public static async Task<Results<Accepted<SyncResponse>, ProblemHttpResult>> RetrySync(
        Guid id, ClaimsPrincipal user, SyncCommands commands, CancellationToken ct) =>
        Answer(id, await commands.RetryAsync(user.TenantScope(), id, ct), "Only a failed or cancelled sync can be retried.",
            $"Sync {id} is completed, running or waiting to run.");

    private static Results<Accepted<SyncResponse>, ProblemHttpResult> Answer(Guid id, RowCommandOutcome<Sync> outcome, string conflict, string detail) =>
        outcome.Status switch
        {
            CommandStatus.NotFound => NotFound(id),
            CommandStatus.Conflict => TypedResults.Problem(title: conflict, detail: detail, statusCode: StatusCodes.Status409Conflict),
            _ => TypedResults.Accepted($"/v1/syncs/{id}", SyncResponse.From(outcome.Row!, outcome.Job, DateTimeOffset.UtcNow)),
        };

    private static ProblemHttpResult NotFound(Guid id) => TypedResults.Problem(
        title: "Sync not found.", detail: $"No sync {id} is visible to this API key.", statusCode: StatusCodes.Status404NotFound);
}
