using Monolith.Domain.Jobs;

namespace Monolith.Domain.Queues;

/// <summary>
/// How many of a tenant's jobs of one queue are in one terminal state (succeeded, failed, cancelled), as of the
/// last compaction: add the pending <see cref="QueueCountDelta"/> rows for the current figure. Written only by
/// <see cref="QueueCounters.CompactAsync"/> (and seeded once by the migration that made it).
/// </summary>
public sealed class QueueCountTotal
{
    public Guid TenantId { get; set; }
    public string Queue { get; set; } = "";
    public JobState State { get; set; }
    public long Count { get; set; }
}
