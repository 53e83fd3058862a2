using Microsoft.Extensions.DependencyInjection;
using Quartz;

namespace Monolith.Worker.Schedules;

/// <summary>
/// The durable Quartz job every schedule's trigger fires (stored with <c>RequestRecovery</c>, so a firing whose node
/// died mid-way is fired again on a peer, with the same scheduled fire time). It submits the schedule's job through
/// <see cref="ScheduleCommands.FireAsync"/>, whose unique run per schedule and fire time makes a repeated firing do
/// nothing. Not <c>[DisallowConcurrentExecution]</c>: one schedule's firings may overlap (its overlap policy decides).
/// </summary>
[RetryPolicy(5, "00:00:01", 2, MaxDelay = "00:00:30", Jitter = 0.2)]
public sealed class ScheduleFiring(IServiceScopeFactory scopes) : IJob
{
    public static readonly JobKey Key = new("ScheduleFiring", "monolith");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken ct)
    {
        var trigger = context.Recovering && context.RecoveringTriggerKey is { } recovering ? recovering : context.Trigger.Key;
        if (trigger.Group != ScheduleTriggers.Group || !Guid.TryParse(trigger.Name, out var scheduleId)) return;
        await using var scope = scopes.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<ScheduleCommands>().FireAsync(scheduleId, context.ScheduledFireTimeUtc ?? context.FireTimeUtc, ct);
    }
}
