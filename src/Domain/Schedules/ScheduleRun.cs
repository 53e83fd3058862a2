using Monolith.Domain.Jobs;

namespace Monolith.Domain.Schedules;

/// <summary>
/// One firing of a schedule: at most one per schedule and fire time across the cluster (a unique key on
/// <see cref="ScheduleId"/> and <see cref="FireTime"/>), written in the transaction that stores its job, so a firing
/// Quartz repeats after a node died mid-way finds it and does nothing. A firing that submitted nothing (overlap "skip")
/// is recorded too, without a job.
/// </summary>
public sealed class ScheduleRun : IJobRow
{
    public Guid Id { get; set; }
    public Guid TenantId { get; set; }
    public Guid ScheduleId { get; set; }

    /// <summary>The fire time Quartz scheduled (not when it actually fired); for "run now", when it was asked.</summary>
    public DateTimeOffset FireTime { get; set; }

    public ScheduleRunOutcome Outcome { get; set; }

    /// <summary>Asked for by "run now" rather than fired by the schedule.</summary>
    public bool Manual { get; set; }

    /// <summary>The job it submitted; null when it submitted none.</summary>
    public Guid? JobId { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

public enum ScheduleRunOutcome
{
    /// <summary>A job was submitted.</summary>
    Submitted,

    /// <summary>Nothing submitted: the previous run's job was still waiting or running (overlap "skip").</summary>
    Skipped,
}

public static class ScheduleRunOutcomes
{
    public static string ToName(this ScheduleRunOutcome outcome) => outcome switch
    {
        ScheduleRunOutcome.Submitted => "submitted",
        ScheduleRunOutcome.Skipped => "skipped",
        _ => throw new ArgumentOutOfRangeException(nameof(outcome)),
    };
}
