using Quartz;
using Quartz.Extensibility;

namespace Monolith.Worker.Engine;

/// <summary>
/// Makes this node's Quartz scheduler look for due triggers now rather than at its next poll. Quartz has no
/// cross-node signal (quartz-4.md §4), so <see cref="EngineNotifications"/> calls this when another node
/// NOTIFYs that it scheduled a ticket. It costs no database round trip: it is the in-process signal a
/// local <c>ScheduleJob</c> raises, taken from Quartz's own DI registration.
/// </summary>
public sealed class SchedulerWakeUp(ISchedulerSignaler signaler)
{
    public void Wake() => _ = signaler.SignalSchedulingChange(null, CancellationToken.None).AsTask();
}
