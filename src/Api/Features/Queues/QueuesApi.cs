using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Monolith.Api.Features.Admin;
using Monolith.Api.Infrastructure;
using Monolith.Domain.Jobs;
using Monolith.Domain.Persistence;
using Monolith.Domain.Queues;
using Monolith.Worker.Engine;
using Monolith.Worker.Maintenance;

namespace Monolith.Api.Features.Queues;

/// <summary>
/// Queue figures for dashboards and autoscalers, and pausing. Figures are cheap however many finished jobs are
/// kept (docs/queues.md). Pausing and resuming are for the admin only: queues are shared by every tenant.
/// </summary>
public static class QueuesApi
{
    /// <summary>Due jobs a resume writes tickets for at most; TicketRescuer tops up beyond that.</summary>
    public const int MaxJobsOnResume = TicketRescuer.MaxJobsPerRound;

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
        string name, ClaimsPrincipal user, MonolithDbContext db, QueueSelector queues, CancellationToken ct)
    {
        if (UnknownQueue(name, queues) is { } invalid) return invalid;

        var now = DateTimeOffset.UtcNow;
        var by = user.FindFirstValue(ClaimTypes.NameIdentifier) ?? "admin";
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO queue_pauses (queue, paused_at, paused_by) VALUES ({name}, {now}, {by})
            ON CONFLICT (queue) DO NOTHING
            """, ct);
        var pause = await db.QueuePauses.AsNoTracking().FirstOrDefaultAsync(p => p.Queue == name, ct);
        return TypedResults.Ok(QueuePauseResponse.From(name, pause));
    }

    /// <summary>
    /// Deletes the pause and, in the same transaction, writes dispatch tickets for the queue's due jobs: the
    /// tickets of jobs that fell due during the pause fired and claimed nothing, so without new ones the jobs would
    /// wait for TicketRescuer's next rounds.
    /// </summary>
    /// <param name="name" example="low">A configured queue: critical, default or low unless configured otherwise.</param>
    public static async Task<Results<Ok<QueuePauseResponse>, ValidationProblem>> ResumeQueue(
        string name, MonolithDbContext db, QueueSelector queues, DispatchTickets tickets, CancellationToken ct)
    {
        if (UnknownQueue(name, queues) is { } invalid) return invalid;

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var resumed = await db.QueuePauses.Where(p => p.Queue == name).ExecuteDeleteAsync(ct);
        if (resumed > 0)
        {
            var now = DateTimeOffset.UtcNow;
            var due = await db.Jobs.CountAsync(j => j.Queue == name && JobStates.Waiting.Contains(j.State) && j.ScheduledAt <= now, ct);
            await tickets.ScheduleAsync(tx.GetDbTransaction(), Enumerable.Repeat(now, Math.Min(due, MaxJobsOnResume)), ct);
        }
        await tx.CommitAsync(ct);
        return TypedResults.Ok(QueuePauseResponse.From(name, null));
    }

    /// <summary>Queue names are checked as on submit (SubmitJobRequestValidator): only configured queues.</summary>
    private static ValidationProblem? UnknownQueue(string name, QueueSelector queues) =>
        queues.IsKnown(name)
            ? null
            : TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["name"] = [$"Unknown queue. Queues: {string.Join(", ", queues.Names)}."],
            });
}
