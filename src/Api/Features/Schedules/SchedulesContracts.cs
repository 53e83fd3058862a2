using Monolith.Api.Features.Jobs;
using Monolith.Api.Infrastructure.OpenApi;
using Monolith.Domain.Jobs;
using Monolith.Domain.Schedules;
using Monolith.Worker.Engine;

namespace Monolith.Api.Features.Schedules;

/// <summary>A recurring job: a cron expression or an interval, in a time zone, submitting <see cref="Job"/> at each fire time.</summary>
/// <param name="Cron">A Quartz cron expression, seconds first (<c>0 0 2 * * ?</c>: 02:00:00 every day); or give <paramref name="IntervalSeconds"/>.</param>
/// <param name="IntervalSeconds">Seconds between fire times, from the start; or give <paramref name="Cron"/>.</param>
/// <param name="TimeZone">IANA time zone the cron expression is read in (default UTC).</param>
/// <param name="Job">The job each fire time submits, as POST /v1/jobs takes it (without runAt or delaySeconds).</param>
/// <param name="Overlap">"allow" (default) or "skip": skip a fire time while the previous run's job is still waiting or running.</param>
/// <param name="Misfire">"fireNow" (default) or "skip": what a fire time missed by more than the misfire threshold does.</param>
/// <param name="Paused">Create it paused (resume starts it).</param>
public sealed record CreateScheduleRequest(
    string? Name,
    string? Cron,
    int? IntervalSeconds,
    string? TimeZone,
    SubmitJobRequest? Job,
    DateTimeOffset? StartAt = null,
    DateTimeOffset? EndAt = null,
    [property: EnumValues(typeof(SchedulePolicies), nameof(SchedulePolicies.OverlapNames))] string? Overlap = null,
    [property: EnumValues(typeof(SchedulePolicies), nameof(SchedulePolicies.MisfireNames))] string? Misfire = null,
    bool? Paused = null)
{
    public NewSchedule ToNewSchedule() => new(
        Name, Cron, IntervalSeconds, TimeZone, Job is null ? null : ToTemplate(Job), StartAt, EndAt,
        SchedulePolicies.ParseOverlap(Overlap) ?? (Overlap is null ? ScheduleOverlap.Allow : null),
        SchedulePolicies.ParseMisfire(Misfire) ?? (Misfire is null ? ScheduleMisfire.FireNow : null),
        Paused ?? false);

    internal static ScheduleJobTemplate ToTemplate(SubmitJobRequest job) => new(
        job.Type!, job.Payload!.Value, job.Queue, job.Priority, job.MaxAttempts, job.TimeoutSeconds, job.BackoffSeconds,
        job.ResultTtlSeconds, job.CallbackUrl);
}

/// <summary>What to change: every field left out keeps its value. A <c>job</c> replaces the whole template; a <c>cron</c> replaces an interval and the other way round.</summary>
public sealed record UpdateScheduleRequest(
    string? Name = null,
    string? Cron = null,
    int? IntervalSeconds = null,
    string? TimeZone = null,
    SubmitJobRequest? Job = null,
    DateTimeOffset? StartAt = null,
    DateTimeOffset? EndAt = null,
    [property: EnumValues(typeof(SchedulePolicies), nameof(SchedulePolicies.OverlapNames))] string? Overlap = null,
    [property: EnumValues(typeof(SchedulePolicies), nameof(SchedulePolicies.MisfireNames))] string? Misfire = null)
{
    public NewSchedule ToNewSchedule() => new(
        Name, Cron, IntervalSeconds, TimeZone, Job is null ? null : CreateScheduleRequest.ToTemplate(Job), StartAt, EndAt,
        SchedulePolicies.ParseOverlap(Overlap), SchedulePolicies.ParseMisfire(Misfire));
}

/// <summary>The job a schedule submits (its payload is not shown: it may hold secrets, stored encrypted).</summary>
public sealed record ScheduleJobView(
    string Type, string? Queue, int? Priority, int? MaxAttempts, int? TimeoutSeconds, double? BackoffSeconds, int? ResultTtlSeconds, string? CallbackUrl);

/// <summary>One fire time of a schedule and the job it submitted (none when skipped).</summary>
public sealed record ScheduleRunResponse(
    Guid Id,
    DateTimeOffset FireTime,
    [property: EnumValues(typeof(ScheduleRunOutcome))] string Outcome,
    bool Manual,
    Guid? JobId,
    JobResponse? Job,
    DateTimeOffset CreatedAt)
{
    public static ScheduleRunResponse From(ScheduleRun run, Job? job, JobSecrets secrets) =>
        new(run.Id, run.FireTime, run.Outcome.ToName(), run.Manual, run.JobId, job is null ? null : JobResponse.From(job, secrets), run.CreatedAt);
}

/// <summary>A schedule as clients see it, with its next fire times and (from GET /v1/schedules/{id}) its latest runs.</summary>
public sealed record ScheduleResponse(
    Guid Id,
    string? Name,
    [property: EnumValues(typeof(ScheduleStatus))] string Status,
    string? Cron,
    int? IntervalSeconds,
    string TimeZone,
    ScheduleJobView Job,
    DateTimeOffset? StartAt,
    DateTimeOffset? EndAt,
    [property: EnumValues(typeof(SchedulePolicies), nameof(SchedulePolicies.OverlapNames))] string Overlap,
    [property: EnumValues(typeof(SchedulePolicies), nameof(SchedulePolicies.MisfireNames))] string Misfire,
    IReadOnlyList<DateTimeOffset> NextFireTimes,
    IReadOnlyList<ScheduleRunResponse> Runs,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    public static ScheduleResponse From(Schedule s, IReadOnlyList<DateTimeOffset> nextFireTimes, IReadOnlyList<ScheduleRunResponse> runs) => new(
        s.Id, s.Name, ScheduleStatuses.Of(s, nextFireTimes.Count > 0 ? nextFireTimes[0] : null).ToName(), s.Cron, s.IntervalSeconds, s.TimeZone,
        new ScheduleJobView(s.JobType, s.Queue, s.Priority, s.MaxAttempts, s.TimeoutSeconds, s.BackoffSeconds, s.ResultTtlSeconds, s.CallbackUrl),
        s.StartAt, s.EndAt, s.Overlap.ToName(), s.Misfire.ToName(), nextFireTimes, runs, s.CreatedAt, s.UpdatedAt);
}

public sealed record ScheduleListResponse(IReadOnlyList<ScheduleResponse> Items, string? NextCursor);
