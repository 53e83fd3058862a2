namespace Monolith.Domain.Schedules;

/// <summary>
/// A recurring job (docs/schedules.md): when it fires (a Quartz cron expression or an interval, in an IANA time zone,
/// between an optional start and end), the job each firing submits (a template as <c>POST /v1/jobs</c> takes it, its
/// payload stored as a job's is: secret parts encrypted for the tenant), and what to do when a firing meets a previous
/// run still going (<see cref="Overlap"/>) or comes late (<see cref="Misfire"/>). The Quartz trigger that fires it is
/// written with the row and exists only while the schedule is active; each firing is a <see cref="ScheduleRun"/>.
/// </summary>
public sealed class Schedule
{
    public const int MaxNameLength = 200;
    public const int MaxCronLength = 120;

    /// <summary>UUIDv7, so ids sort by creation time.</summary>
    public Guid Id { get; set; }
    public Guid TenantId { get; set; }
    public string? Name { get; set; }

    /// <summary>A Quartz cron expression (seconds first); null when the schedule is an interval.</summary>
    public string? Cron { get; set; }

    /// <summary>Seconds between firings; null when the schedule is a cron expression.</summary>
    public int? IntervalSeconds { get; set; }

    /// <summary>The IANA time zone the cron expression (and an interval's calendar) is read in.</summary>
    public string TimeZone { get; set; } = "UTC";

    public DateTimeOffset? StartAt { get; set; }
    public DateTimeOffset? EndAt { get; set; }

    public ScheduleOverlap Overlap { get; set; }
    public ScheduleMisfire Misfire { get; set; }

    /// <summary>Paused: no Quartz trigger exists for it; resuming writes a new one from now on.</summary>
    public bool Paused { get; set; }

    /// <summary>The job template: its type (kind), payload as stored (secrets encrypted), and the submitter's settings.</summary>
    public string JobType { get; set; } = "";
    public string Payload { get; set; } = "{}";
    public string? Queue { get; set; }
    public int? Priority { get; set; }
    public int? MaxAttempts { get; set; }
    public int? TimeoutSeconds { get; set; }
    public double? BackoffSeconds { get; set; }
    public int? ResultTtlSeconds { get; set; }
    public string? CallbackUrl { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>What a firing does while the schedule's previous run's job is still waiting or running.</summary>
public enum ScheduleOverlap
{
    /// <summary>Submit another job beside it.</summary>
    Allow,

    /// <summary>Submit nothing: the run is recorded as skipped.</summary>
    Skip,
}

/// <summary>What Quartz does with a firing later than <c>Schedules:MisfireThresholdSeconds</c> after its time (docs/schedules.md).</summary>
public enum ScheduleMisfire
{
    /// <summary>Fire once now for the fire times missed, then go on (Quartz's <c>FireAndProceed</c>).</summary>
    FireNow,

    /// <summary>Fire nothing for the fire times missed; go on with the next one after now (Quartz's <c>DoNothing</c>).</summary>
    Skip,
}

public static class SchedulePolicies
{
    public static string ToName(this ScheduleOverlap overlap) => overlap switch
    {
        ScheduleOverlap.Allow => "allow",
        ScheduleOverlap.Skip => "skip",
        _ => throw new ArgumentOutOfRangeException(nameof(overlap)),
    };

    public static string ToName(this ScheduleMisfire misfire) => misfire switch
    {
        ScheduleMisfire.FireNow => "fireNow",
        ScheduleMisfire.Skip => "skip",
        _ => throw new ArgumentOutOfRangeException(nameof(misfire)),
    };

    public static readonly IReadOnlyList<string> OverlapNames = Enum.GetValues<ScheduleOverlap>().Select(o => o.ToName()).ToList();
    public static readonly IReadOnlyList<string> MisfireNames = Enum.GetValues<ScheduleMisfire>().Select(m => m.ToName()).ToList();

    public static ScheduleOverlap? ParseOverlap(string? name) =>
        Enum.GetValues<ScheduleOverlap>().Cast<ScheduleOverlap?>().FirstOrDefault(o => o!.Value.ToName() == name);

    public static ScheduleMisfire? ParseMisfire(string? name) =>
        Enum.GetValues<ScheduleMisfire>().Cast<ScheduleMisfire?>().FirstOrDefault(m => m!.Value.ToName() == name);
}
