using Npgsql;

namespace Monolith.Domain.Queues;

/// <summary>
/// The terminal-state counters (docs/queues.md). Statement-level triggers on <c>jobs</c> append one
/// <see cref="QueueCountDelta"/> per tenant, queue and terminal state a statement changed, so concurrent writers
/// never update a shared counter row; <see cref="CompactAsync"/> folds those rows into <see cref="QueueCountTotal"/>.
/// Readers sum totals and pending deltas, so the figures are the same before and after a compaction.
/// </summary>
public static class QueueCounters
{
    /// <summary>Deltas moved per statement: bounds one transaction after a long time without compaction.</summary>
    public const int BatchSize = 50_000;

    /// <summary>Statements per <see cref="CompactAsync"/> call; what is left waits for the next call.</summary>
    public const int MaxBatchesPerCall = 20;

    /// <summary>
    /// One batch, one statement, so one transaction: the deltas it deletes are exactly the ones it adds to the
    /// totals. Deltas of transactions still open are invisible to it and stay for the next round. Two compactions
    /// at once are safe: the second waits on the first's deleted rows, then skips them.
    /// </summary>
    public const string CompactSql = """
        WITH moved AS (
            DELETE FROM queue_count_deltas
            WHERE id IN (SELECT id FROM queue_count_deltas LIMIT @batch)
            RETURNING tenant_id, queue, state, delta),
        folded AS (
            INSERT INTO queue_count_totals AS t (tenant_id, queue, state, count)
            SELECT tenant_id, queue, state, sum(delta) FROM moved
            GROUP BY tenant_id, queue, state
            HAVING sum(delta) <> 0
            ORDER BY tenant_id, queue, state
            ON CONFLICT (tenant_id, queue, state) DO UPDATE SET count = t.count + excluded.count
            RETURNING 1)
        SELECT (SELECT count(*) FROM moved), (SELECT count(*) FROM folded)
        """;

    /// <summary>Folds pending deltas into the totals; returns how many delta rows it moved and total rows it changed.</summary>
    public static async Task<CompactionResult> CompactAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        long moved = 0, totals = 0;
        for (var batch = 0; batch < MaxBatchesPerCall; batch++)
        {
            await using var command = new NpgsqlCommand(CompactSql, connection);
            command.Parameters.AddWithValue("batch", BatchSize);
            await using var reader = await command.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            var (batchMoved, batchTotals) = (reader.GetInt64(0), reader.GetInt64(1));
            moved += batchMoved;
            totals += batchTotals;
            if (batchMoved < BatchSize) break;
        }
        return new CompactionResult(moved, totals);
    }
}

/// <param name="DeltasMoved">Delta rows folded and deleted.</param>
/// <param name="TotalsChanged">Total rows inserted or updated.</param>
public sealed record CompactionResult(long DeltasMoved, long TotalsChanged);
