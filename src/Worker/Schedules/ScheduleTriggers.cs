using System.Data.Common;
using Monolith.Domain.Schedules;
using Quartz;
using Microsoft.Extensions.Options;
using Quartz.Extensibility;

namespace Monolith.Worker.Schedules;

/// <summary>
/// Where schedules meet Quartz: one trigger per active schedule (a cron trigger in the schedule's IANA time zone, or a
/// calendar-interval trigger for an interval), of the durable <see cref="ScheduleFiring"/> job, keyed by the schedule's
/// id. Triggers are written in the caller's transaction (<c>EnlistTransaction</c>, as dispatch tickets are), so a
/// schedule row and its trigger commit together; an <c>api</c> node writes them through its scheduler that is never
/// started, and only worker nodes fire them.
/// </summary>
public sealed class ScheduleTriggers(ISchedulerFactory schedulers, IOptions<ScheduleOptions> options)
{
    public const string Group = "schedules";

    public static TriggerKey KeyOf(Guid scheduleId) => new(scheduleId.ToString(), Group);

    /// <summary>
    /// The schedule's trigger, firing from <paramref name="from"/> (or its start, when later) to its end. A firing later
    /// than <paramref name="misfireThreshold"/> (the trigger's own threshold, not the store's 6 h) is a misfire, and
    /// Quartz applies the instruction the policy maps to: "fireNow" fires once now and goes on (<c>FireAndProceed</c>),
    /// "skip" goes on with the next fire time after now (<c>DoNothing</c>).
    /// </summary>
    public static ITrigger Build(Schedule schedule, DateTimeOffset from, TimeSpan misfireThreshold)
    {
        var zone = TimeZoneInfo.FindSystemTimeZoneById(schedule.TimeZone);
        var start = schedule.StartAt is { } startAt && startAt > from ? startAt : from;
        var builder = TriggerBuilder.Create()
            .WithIdentity(KeyOf(schedule.Id))
            .ForJob(ScheduleFiring.Key)
            .StartAt(start)
            .WithMisfireThreshold(misfireThreshold);
        if (schedule.EndAt is { } end) builder = builder.EndAt(end);
        IScheduleBuilder timing = schedule.Cron is { } cron
            ? CronScheduleBuilder.Create(cron).InTimeZone(zone).WithMisfireInstruction(schedule.Misfire == ScheduleMisfire.FireNow
                ? CronTriggerMisfireInstruction.FireAndProceed : CronTriggerMisfireInstruction.DoNothing)
            : CalendarIntervalScheduleBuilder.Create().WithInterval(schedule.IntervalSeconds!.Value, IntervalUnit.Second).InTimeZone(zone)
                .WithMisfireInstruction(schedule.Misfire == ScheduleMisfire.FireNow
                    ? CalendarIntervalTriggerMisfireInstruction.FireAndProceed : CalendarIntervalTriggerMisfireInstruction.DoNothing);
        return builder.WithSchedule(timing).Build();
    }

    /// <summary>The first time a trigger built now would fire; null when it never would (its end is before any fire time).</summary>
    public static DateTimeOffset? FirstFireTime(Schedule schedule, DateTimeOffset from) =>
        ((IOperableTrigger)Build(schedule, from, TimeSpan.FromMinutes(1))).ComputeFirstFireTimeUtc(null);

    /// <summary>
    /// Makes Quartz match the schedule, in <paramref name="transaction"/>: an active schedule gets a new trigger from now
    /// (replacing the one it had), a paused one none. A resumed schedule so starts from now and does not catch up on
    /// the fire times it was paused over.
    /// </summary>
    public async Task WriteAsync(DbTransaction transaction, Schedule schedule, CancellationToken ct)
    {
        var scheduler = await schedulers.GetScheduler(ct);
        using (scheduler.EnlistTransaction(transaction))
        {
            if (schedule.Paused)
            {
                await scheduler.UnscheduleJob(KeyOf(schedule.Id), ct);
                return;
            }
            await scheduler.ScheduleJob(Build(schedule, DateTimeOffset.UtcNow, options.Value.MisfireThreshold), new ScheduleJobOptions { Replace = true }, ct);
        }
    }

    /// <summary>Deletes the schedule's trigger, in <paramref name="transaction"/>.</summary>
    public async Task RemoveAsync(DbTransaction transaction, Guid scheduleId, CancellationToken ct)
    {
        var scheduler = await schedulers.GetScheduler(ct);
        using (scheduler.EnlistTransaction(transaction))
        {
            await scheduler.UnscheduleJob(KeyOf(scheduleId), ct);
        }
    }

    /// <summary>The next <paramref name="count"/> fire times of the schedule's stored trigger (none while it is paused or once it has ended).</summary>
    public async Task<IReadOnlyList<DateTimeOffset>> NextFireTimesAsync(Guid scheduleId, int count, CancellationToken ct)
    {
        var scheduler = await schedulers.GetScheduler(ct);
        var trigger = await scheduler.GetTrigger(KeyOf(scheduleId), ct);
        var times = new List<DateTimeOffset>(count);
        for (var next = trigger?.NextFireTimeUtc; next is { } at && times.Count < count; next = trigger!.GetFireTimeAfter(at))
        {
            times.Add(at);
        }
        return times;
    }
}
