using System.Text.Json;

namespace Monolith.Domain.Schedules;

/// <summary>The job a schedule submits at each firing, as <c>POST /v1/jobs</c> takes one (without a due time). The payload is in plain text here.</summary>
public sealed record ScheduleJobTemplate(
    string Type,
    JsonElement Payload,
    string? Queue = null,
    int? Priority = null,
    int? MaxAttempts = null,
    int? TimeoutSeconds = null,
    double? BackoffSeconds = null,
    int? ResultTtlSeconds = null,
    string? CallbackUrl = null);

/// <summary>
/// A schedule as a client asks for it or changes it: the input of <c>ScheduleCommands.CreateAsync</c> and
/// <c>UpdateAsync</c>. For an update every null keeps what the schedule has (a new <see cref="Job"/> replaces the whole
/// template; a new <see cref="Cron"/> replaces an interval and the other way round).
/// </summary>
public sealed record NewSchedule(
    string? Name = null,
    string? Cron = null,
    int? IntervalSeconds = null,
    string? TimeZone = null,
    ScheduleJobTemplate? Job = null,
    DateTimeOffset? StartAt = null,
    DateTimeOffset? EndAt = null,
    ScheduleOverlap? Overlap = null,
    ScheduleMisfire? Misfire = null,
    bool? Paused = null);
