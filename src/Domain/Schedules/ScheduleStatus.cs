namespace Monolith.Domain.Schedules;

/// <summary>What clients see of a schedule: firing, paused by a client, or past its end (it fires no more).</summary>
public enum ScheduleStatus
{
    Active,
    Paused,
    Ended,
}

public static class ScheduleStatuses
{
    /// <summary>
    /// Paused wins; otherwise ended once there is no fire time left (<paramref name="nextFireTime"/> null: past the end,
    /// or an expression with no future time), else active.
    /// </summary>
    public static ScheduleStatus Of(Schedule schedule, DateTimeOffset? nextFireTime) =>
        schedule.Paused ? ScheduleStatus.Paused : nextFireTime is null ? ScheduleStatus.Ended : ScheduleStatus.Active;

    public static string ToName(this ScheduleStatus status) => status switch
    {
        ScheduleStatus.Active => "active",
        ScheduleStatus.Paused => "paused",
        ScheduleStatus.Ended => "ended",
        _ => throw new ArgumentOutOfRangeException(nameof(status)),
    };

    public static bool CanPause(this ScheduleStatus status) => status == ScheduleStatus.Active;
    public static bool CanResume(this ScheduleStatus status) => status == ScheduleStatus.Paused;
}
