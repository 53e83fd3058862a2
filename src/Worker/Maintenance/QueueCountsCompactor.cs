using Microsoft.Extensions.Logging;
using Monolith.Domain.Queues;
using Npgsql;
using Quartz;

namespace Monolith.Worker.Maintenance;

/// <summary>
/// Keeps the terminal-state counters of <c>GET /v1/queues</c> cheap to read. The triggers on <c>jobs</c> append
/// a delta row per statement that finishes (or retries, or deletes) jobs; every <see cref="Interval"/>, on one
/// node of the cluster, this folds the pending deltas into the totals (<see cref="QueueCounters.CompactAsync"/>),
/// so a read sums the totals and at most a few seconds' worth of deltas. The figures read the same before and
/// after; a round that is skipped (no worker node up) only leaves more deltas to sum. See docs/queues.md.
/// </summary>
[DisallowConcurrentExecution]
public sealed class QueueCountsCompactor(NpgsqlDataSource dataSource, ILogger<QueueCountsCompactor> logger) : IJob
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(15);

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var result = await QueueCounters.CompactAsync(connection, ct);
        if (result.DeltasMoved > 0)
        {
            logger.LogDebug("Folded {Deltas} queue count delta(s) into {Totals} total(s)", result.DeltasMoved, result.TotalsChanged);
        }
    }
}
