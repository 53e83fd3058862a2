using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Monolith.Api.Features.Admin;
using Monolith.Api.Infrastructure;
using Monolith.Domain.Queues;
using Monolith.Worker.Engine;

namespace Monolith.Api.Features.Queues;

/// <summary>
/// Queue figures for dashboards and autoscalers, and pausing. Figures are cheap however many finished jobs are
/// kept (docs/queues.md). Pausing and resuming are for the admin only: queues are shared by every tenant.
/// </summary>
public static class QueuesApi
{
    public static RouteGroupBuilder MapQueuesApi(this IEndpointRouteBuilder routes)
    {
        var queues = routes.MapGroup("/v1/queues").WithTags("Queues").RequireAuthorization();

        queues.MapGet("/", ListQueues).WithName("ListQueues")
            .WithSummary("Every queue's job counts per state, the age of its oldest queued job, and whether it is paused")
            .WithDescription("A tenant's key counts its own jobs; the admin key counts every tenant's. Cheap enough to poll " +
                             "(an autoscaler): live states come from an index of waiting and running jobs only, finished " +
                             "ones from counters.");
        queues.MapPost("/{name}/pause", PauseQueue).WithName("PauseQueue").RequireAuthorization(AdminApi.Policy)
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status403Forbidden)
            .WithSummary("Pause a queue (admin only): workers claim none of its jobs until it is resumed")
            .WithDescription("Jobs can still be submitted to it and cancelled. Jobs already running go on. Pausing a paused " +
                             "queue changes nothing.");
        queues.MapPost("/{name}/resume", ResumeQueue).WithName("ResumeQueue").RequireAuthorization(AdminApi.Policy)
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status403Forbidden)
            .WithSummary("Resume a paused queue (admin only): its due jobs start again")
            .WithDescription("Resuming a queue that is not paused changes nothing.");
        return queues;
    }

    public static async Task<Ok<QueueListResponse>> ListQueues(
        ClaimsPrincipal user, QueueFigures figureQuery, QueueSelector queues, CancellationToken ct)
    {
        var now = DateTimeOffset.UtcNow;
        var figures = await figureQuery.ListAsync(user.TenantScope(), queues.Names, now, ct);
        return TypedResults.Ok(new QueueListResponse(figures.Select(QueueResponse.From).ToList(), now));
    }

    /// <param name="name" example="low">A configured queue: critical, default or low unless configured otherwise.</param>
    public static async Task<Results<Ok<QueuePauseResponse>, ValidationProblem>> PauseQueue(
        string name, ClaimsPrincipal user, QueuePausing pausing, QueueSelector queues, CancellationToken ct)
    {
        if (UnknownQueue(name, queues) is { } invalid) return invalid;
        var pause = await pausing.PauseAsync(name, user.FindFirstValue(ClaimTypes.NameIdentifier) ?? "admin", ct);
        return TypedResults.Ok(QueuePauseResponse.From(name, pause));
    }

    /// <param name="name" example="low">A configured queue: critical, default or low unless configured otherwise.</param>
    public static async Task<Results<Ok<QueuePauseResponse>, ValidationProblem>> ResumeQueue(
        string name, QueuePausing pausing, QueueSelector queues, CancellationToken ct)
    {
        if (UnknownQueue(name, queues) is { } invalid) return invalid;
        await pausing.ResumeAsync(name, ct);
        return TypedResults.Ok(QueuePauseResponse.From(name, null));
    }

    /// <summary>Queue names are checked as on submit (SubmitJobRequestValidator): only configured queues.</summary>
    private static ValidationProblem? UnknownQueue(string name, QueueSelector queues) =>
        queues.IsKnown(name) ? null : TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["name"] = [queues.UnknownQueueMessage] });
}
