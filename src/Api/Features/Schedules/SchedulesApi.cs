using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Monolith.Api.Infrastructure;
using Monolith.Api.Infrastructure.OpenApi;
using Monolith.Domain.Jobs;
using Monolith.Domain.Schedules;
using Monolith.Worker.Engine;
using Monolith.Worker.Schedules;

namespace Monolith.Api.Features.Schedules;

/// <summary>Recurring jobs fired by Quartz cron or interval triggers across the cluster (docs/schedules.md).</summary>
public static class SchedulesApi
{
    /// <summary>How many next fire times GET shows (the list shows the next one).</summary>
    public const int NextFireTimes = 5;

    public static RouteGroupBuilder MapSchedulesApi(this IEndpointRouteBuilder routes)
    {
        var schedules = routes.MapGroup("/v1/schedules").WithTags("Schedules").RequireAuthorization();
        schedules.MapPost("/", CreateSchedule).WithName("CreateSchedule").WithValidation<CreateScheduleRequest>()
            .WithSummary("Create a recurring job: a Quartz cron expression (seconds first) or an interval, in an IANA time zone")
            .WithDescription("At each fire time the job template is submitted as POST /v1/jobs would (its payload's secrets encrypted " +
                             "at rest), exactly once per fire time across the cluster. 201 with the schedule and its next fire times.");
        schedules.MapGet("/", ListSchedules).WithName("ListSchedules").ProducesValidationProblem()
            .WithParameterFacts("limit", minimum: 1, maximum: ScheduleQueries.MaxPageSize)
            .WithSummary("List schedules, newest first, with cursor paging (each with its next fire time)");
        schedules.MapGet("/{id:guid}", GetSchedule).WithName("GetSchedule").ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("A schedule, its next fire times and its latest runs with their jobs");
        schedules.MapPatch("/{id:guid}", UpdateSchedule).WithName("UpdateSchedule").WithValidation<UpdateScheduleRequest>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("Change a schedule: fields left out keep their value; its trigger is rewritten from now");
        schedules.MapDelete("/{id:guid}", DeleteSchedule).WithName("DeleteSchedule").ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("Delete a schedule and its runs (the jobs it submitted stay)");
        schedules.MapPost("/{id:guid}/pause", PauseSchedule).WithName("PauseSchedule")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .WithSummary("Stop firing until resumed");
        schedules.MapPost("/{id:guid}/resume", ResumeSchedule).WithName("ResumeSchedule")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .WithSummary("Fire again from now on (the fire times it was paused over are not caught up)");
        schedules.MapPost("/{id:guid}/run", RunSchedule).WithName("RunSchedule").ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("Submit the schedule's job now, besides its fire times (paused or not): 202 with the run and its job");
        return schedules;
    }

    public static async Task<Results<Created<ScheduleResponse>, ValidationProblem>> CreateSchedule(
        CreateScheduleRequest request, ClaimsPrincipal user, ScheduleCommands commands, ScheduleTriggers triggers, CancellationToken ct)
    {
        var outcome = await commands.CreateAsync(user.TenantId(), request.ToNewSchedule(), ct);
        if (outcome.Status == CommandStatus.Invalid) return TypedResults.ValidationProblem(new Dictionary<string, string[]>(outcome.Errors!));
        var schedule = outcome.Row!;
        return TypedResults.Created($"/v1/schedules/{schedule.Id}",
            ScheduleResponse.From(schedule, await triggers.NextFireTimesAsync(schedule.Id, NextFireTimes, ct), []));
    }

    public static async Task<Results<Ok<ScheduleResponse>, ProblemHttpResult>> GetSchedule(
        Guid id, ClaimsPrincipal user, ScheduleQueries schedules, JobQueries jobs, JobSecrets secrets, ScheduleTriggers triggers, CancellationToken ct)
    {
        if (await schedules.GetAsync(user.TenantScope(), id, ct) is not { } schedule) return NotFound(id);
        return TypedResults.Ok(await ResponseAsync(schedule, schedules, jobs, secrets, triggers, ct));
    }

    /// <summary>A schedule with its next fire times and latest runs (with their jobs): what GET, PATCH, pause and resume answer.</summary>
    internal static async Task<ScheduleResponse> ResponseAsync(
        Schedule schedule, ScheduleQueries schedules, JobQueries jobs, JobSecrets secrets, ScheduleTriggers triggers, CancellationToken ct)
    {
        var runs = await schedules.RunsAsync(schedule.Id, ScheduleQueries.RecentRuns, ct);
        var runJobs = await jobs.ByIdsAsync(runs.Select(r => r.JobId), ct);
        return ScheduleResponse.From(schedule, await triggers.NextFireTimesAsync(schedule.Id, NextFireTimes, ct),
            runs.Select(r => ScheduleRunResponse.From(r, r.JobId is { } jobId ? runJobs.GetValueOrDefault(jobId) : null, secrets)).ToList());
    }

    /// <param name="cursor">The <c>nextCursor</c> of the previous page.</param>
    /// <param name="limit">Page size, 1 to 200 (default 50).</param>
    public static async Task<Results<Ok<ScheduleListResponse>, ValidationProblem>> ListSchedules(
        string? cursor, int? limit, ClaimsPrincipal user, ScheduleQueries schedules, ScheduleTriggers triggers, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        var paging = PageRequest.Read(cursor, limit, ScheduleQueries.MaxPageSize, errors);
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors);

        var page = await schedules.ListAsync(user.TenantScope(), paging.After, paging.Size, ct);
        var items = new List<ScheduleResponse>(page.Count);
        foreach (var schedule in page) items.Add(ScheduleResponse.From(schedule, await triggers.NextFireTimesAsync(schedule.Id, 1, ct), []));
        return TypedResults.Ok(new ScheduleListResponse(items, paging.NextCursor(page, s => s.Id)));
    }

    public static async Task<Results<Ok<ScheduleResponse>, ValidationProblem, ProblemHttpResult>> UpdateSchedule(
        Guid id, UpdateScheduleRequest request, ClaimsPrincipal user, ScheduleCommands commands, ScheduleQueries schedules, JobQueries jobs,
        JobSecrets secrets, ScheduleTriggers triggers, CancellationToken ct)
    {
        var outcome = await commands.UpdateAsync(user.TenantScope(), id, request.ToNewSchedule(), ct);
        return outcome.Status switch
        {
            CommandStatus.NotFound => NotFound(id),
            CommandStatus.Invalid => TypedResults.ValidationProblem(new Dictionary<string, string[]>(outcome.Errors!)),
            _ => TypedResults.Ok(await ResponseAsync(outcome.Row!, schedules, jobs, secrets, triggers, ct)),
        };
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteSchedule(
        Guid id, ClaimsPrincipal user, ScheduleCommands commands, CancellationToken ct) =>
        (await commands.DeleteAsync(user.TenantScope(), id, ct)).Status == CommandStatus.NotFound ? NotFound(id) : TypedResults.NoContent();

    public static async Task<Results<Ok<ScheduleResponse>, ProblemHttpResult>> PauseSchedule(
        Guid id, ClaimsPrincipal user, ScheduleCommands commands, ScheduleQueries schedules, JobQueries jobs, JobSecrets secrets,
        ScheduleTriggers triggers, CancellationToken ct) =>
        await AnswerAsync(id, await commands.PauseAsync(user.TenantScope(), id, ct), "It is already paused.", schedules, jobs, secrets, triggers, ct);

    public static async Task<Results<Ok<ScheduleResponse>, ProblemHttpResult>> ResumeSchedule(
        Guid id, ClaimsPrincipal user, ScheduleCommands commands, ScheduleQueries schedules, JobQueries jobs, JobSecrets secrets,
        ScheduleTriggers triggers, CancellationToken ct) =>
        await AnswerAsync(id, await commands.ResumeAsync(user.TenantScope(), id, ct), "It is not paused, or it has no fire time left (past its endAt).", schedules, jobs, secrets, triggers, ct);

    public static async Task<Results<Accepted<ScheduleRunResponse>, ProblemHttpResult>> RunSchedule(
        Guid id, ClaimsPrincipal user, ScheduleCommands commands, JobSecrets secrets, CancellationToken ct)
    {
        var outcome = await commands.RunNowAsync(user.TenantScope(), id, ct);
        if (outcome.Status == CommandStatus.NotFound) return NotFound(id);
        return TypedResults.Accepted($"/v1/jobs/{outcome.Job!.Id}", ScheduleRunResponse.From(outcome.Row!, outcome.Job, secrets));
    }

    private static async Task<Results<Ok<ScheduleResponse>, ProblemHttpResult>> AnswerAsync(
        Guid id, RowCommandOutcome<Schedule> outcome, string conflict, ScheduleQueries schedules, JobQueries jobs, JobSecrets secrets,
        ScheduleTriggers triggers, CancellationToken ct) => outcome.Status switch
    {
        CommandStatus.NotFound => NotFound(id),
        CommandStatus.Conflict => TypedResults.Problem(title: "The schedule is not in a state for this.", detail: $"Schedule {id}: {conflict}",
            statusCode: StatusCodes.Status409Conflict),
        _ => TypedResults.Ok(await ResponseAsync(outcome.Row!, schedules, jobs, secrets, triggers, ct)),
    };

    private static ProblemHttpResult NotFound(Guid id) => TypedResults.Problem(
        title: "Schedule not found.", detail: $"No schedule {id} is visible to this API key.", statusCode: StatusCodes.Status404NotFound);
}
