using Monolith.Domain.Jobs;

namespace Monolith.Domain.Queues;

/// <summary>
/// A change to a terminal-state count, appended by the statement-level triggers on <c>jobs</c> (one row per
/// tenant, queue and state a statement changed, already summed over the statement's rows). Append-only, so jobs
/// finishing on many nodes at once never wait on one another for a counter row; <see cref="QueueCounters.CompactAsync"/>
/// folds the rows into <see cref="QueueCountTotal"/> every few seconds.
/// </summary>
public sealed class QueueCountDelta
{
    public long Id { get; set; }
    public Guid TenantId { get; set; }
    public string Queue { get; set; } = "";
    public JobState State { get; set; }
    public long Delta { get; set; }
}
