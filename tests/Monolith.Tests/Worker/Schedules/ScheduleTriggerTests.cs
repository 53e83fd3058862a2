using Monolith.Domain.Schedules;
using Monolith.Worker.Schedules;
using Quartz;
using Quartz.Extensibility;

namespace Monolith.Tests.Worker.Schedules;

/// <summary>
/// The triggers schedules get, checked with Quartz's own calendar arithmetic (no waiting for real time): a 02:30 job in
/// America/New_York across both daylight-saving changes of 2026, an interval across one, and the misfire policies.
/// </summary>
public sealed class ScheduleTriggerTests
{
    private static readonly TimeZoneInfo NewYork = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");

    private static Schedule Cron(string cron, string zone = "America/New_York", ScheduleMisfire misfire = ScheduleMisfire.FireNow) =>
        new() { Id = Guid.CreateVersion7(), Cron = cron, TimeZone = zone, Misfire = misfire };

    private static List<DateTimeOffset> FireTimes(ITrigger trigger, DateTimeOffset after, int count)
    {
        var times = new List<DateTimeOffset>();
        for (var next = trigger.GetFireTimeAfter(after); next is { } at && times.Count < count; next = trigger.GetFireTimeAfter(at)) times.Add(at);
        return times;
    }

    private static string Local(DateTimeOffset utc) => TimeZoneInfo.ConvertTime(utc, NewYork).ToString("yyyy-MM-dd HH:mm:ss zzz");

    [Fact]
    public void Spring_forward_a_0230_job_on_the_day_that_has_no_0230_fires_once_at_0300_EDT()
    {
        // 2026-03-08: clocks go from 02:00 EST to 03:00 EDT, so 02:30 does not exist that day.
        var trigger = ScheduleTriggers.Build(Cron("0 30 2 * * ?"), new DateTimeOffset(2026, 3, 6, 12, 0, 0, TimeSpan.Zero), TimeSpan.FromMinutes(1));

        var times = FireTimes(trigger, new DateTimeOffset(2026, 3, 6, 12, 0, 0, TimeSpan.Zero), 4).Select(Local).ToList();

        Assert.Equal([
            "2026-03-07 02:30:00 -05:00",
            "2026-03-08 03:00:00 -04:00", // Quartz fires once, at the first instant after the gap (03:00 EDT)
            "2026-03-09 02:30:00 -04:00",
            "2026-03-10 02:30:00 -04:00",
        ], times);
    }

    [Fact]
    public void Fall_back_a_0130_job_on_the_day_with_two_0130s_fires_once_at_the_first()
    {
        // 2026-11-01: clocks go from 02:00 EDT back to 01:00 EST, so 01:00-01:59 happens twice.
        var from = new DateTimeOffset(2026, 10, 30, 12, 0, 0, TimeSpan.Zero);
        var trigger = ScheduleTriggers.Build(Cron("0 30 1 * * ?"), from, TimeSpan.FromMinutes(1));

        var times = FireTimes(trigger, from, 3).Select(Local).ToList();

        Assert.Equal([
            "2026-10-31 01:30:00 -04:00",
            "2026-11-01 01:30:00 -04:00", // the first (EDT) 01:30 only; not again an hour later in EST
            "2026-11-02 01:30:00 -05:00",
        ], times);
    }

    [Fact]
    public void Fall_back_a_0230_job_fires_once_25_hours_after_the_day_before()
    {
        var from = new DateTimeOffset(2026, 10, 30, 12, 0, 0, TimeSpan.Zero);
        var trigger = ScheduleTriggers.Build(Cron("0 30 2 * * ?"), from, TimeSpan.FromMinutes(1));

        var times = FireTimes(trigger, from, 3);

        Assert.Equal(["2026-10-31 02:30:00 -04:00", "2026-11-01 02:30:00 -05:00", "2026-11-02 02:30:00 -05:00"], times.Select(Local));
        Assert.Equal(TimeSpan.FromHours(25), times[1] - times[0]);
    }

    [Fact]
    public void An_interval_counts_elapsed_seconds_across_a_daylight_saving_change()
    {
        var schedule = new Schedule { Id = Guid.CreateVersion7(), IntervalSeconds = 3600, TimeZone = "America/New_York" };
        var from = new DateTimeOffset(2026, 3, 8, 5, 30, 0, TimeSpan.Zero); // 00:30 EST

        var times = FireTimes(ScheduleTriggers.Build(schedule, from, TimeSpan.FromMinutes(1)), from, 3);

        Assert.Equal(["2026-03-08 01:30:00 -05:00", "2026-03-08 03:30:00 -04:00", "2026-03-08 04:30:00 -04:00"], times.Select(Local));
        Assert.All(times.Zip(times.Skip(1)), pair => Assert.Equal(TimeSpan.FromHours(1), pair.Second - pair.First));
    }

    [Fact]
    public void Misfire_fireNow_fires_once_now_then_goes_on_with_the_next_fire_time()
    {
        var (trigger, now) = Misfired(ScheduleMisfire.FireNow);

        trigger.UpdateAfterMisfire(null);

        Assert.Equal(CronTriggerMisfireInstruction.FireAndProceed, (CronTriggerMisfireInstruction)trigger.MisfireInstructionCode);
        Assert.InRange(trigger.NextFireTimeUtc!.Value, now.AddSeconds(-5), DateTimeOffset.UtcNow.AddSeconds(1));
    }

    [Fact]
    public void Misfire_skip_fires_nothing_for_the_missed_times_and_waits_for_the_next_one()
    {
        var (trigger, now) = Misfired(ScheduleMisfire.Skip);

        trigger.UpdateAfterMisfire(null);

        Assert.Equal(CronTriggerMisfireInstruction.DoNothing, (CronTriggerMisfireInstruction)trigger.MisfireInstructionCode);
        var next = trigger.NextFireTimeUtc!.Value;
        Assert.True(next > now, $"next fire time {next:O} is not after now {now:O}");
        Assert.Equal(0, next.Minute % 10); // the next of the expression's own times (every 10 minutes), not now
    }

    [Fact]
    public void The_trigger_carries_the_configured_misfire_threshold_not_the_stores_six_hours()
    {
        var trigger = ScheduleTriggers.Build(Cron("0 0/10 * * * ?", "UTC"), DateTimeOffset.UtcNow, TimeSpan.FromSeconds(42));

        Assert.Equal(TimeSpan.FromSeconds(42), trigger.MisfireThreshold);
    }

    /// <summary>A trigger of a 10-minute cron whose next fire time is an hour ago, as a node that was down for an hour finds it.</summary>
    private static (IOperableTrigger Trigger, DateTimeOffset Now) Misfired(ScheduleMisfire misfire)
    {
        var now = DateTimeOffset.UtcNow;
        var trigger = (IOperableTrigger)ScheduleTriggers.Build(Cron("0 0/10 * * * ?", "UTC", misfire), now.AddHours(-1), TimeSpan.FromMinutes(1));
        var first = trigger.ComputeFirstFireTimeUtc(null)!.Value;
        ((Quartz.Impl.Triggers.CronTriggerImpl)trigger).NextFireTimeUtc = first.AddHours(-1); // the fire time it was waiting for when its node went down
        Assert.True(trigger.NextFireTimeUtc < now.AddMinutes(-30));
        return (trigger, now);
    }
}
