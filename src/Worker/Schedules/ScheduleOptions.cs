using Microsoft.Extensions.DependencyInjection;

namespace Monolith.Worker.Schedules;

/// <summary>Settings of recurring schedules (section <c>Schedules</c>; docs/schedules.md).</summary>
public sealed class ScheduleOptions
{
    public const string Section = "Schedules";

    /// <summary>
    /// A firing later than this after its fire time is a misfire, handled by the schedule's misfire policy
    /// (<c>Schedules__MisfireThresholdSeconds</c>, default 60; each schedule's trigger carries it). A firing Quartz
    /// recovers from a dead node is never one.
    /// </summary>
    public int MisfireThresholdSeconds { get; set; } = 60;

    public TimeSpan MisfireThreshold => TimeSpan.FromSeconds(Math.Max(1, MisfireThresholdSeconds));
}

public static class ScheduleExtensions
{
    /// <summary>Recurring schedules: the commands (API and dashboard) and how they meet Quartz. The firing job is registered with Quartz in <c>WorkerExtensions</c>.</summary>
    public static IServiceCollection AddSchedules(this IServiceCollection services)
    {
        services.AddOptions<ScheduleOptions>().BindConfiguration(ScheduleOptions.Section);
        services.AddSingleton<ScheduleTriggers>();
        services.AddScoped<ScheduleCommands>();
        return services;
    }
}
