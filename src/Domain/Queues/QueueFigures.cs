using System.Data;
using Microsoft.EntityFrameworkCore;
using Monolith.Domain.Jobs;
using Monolith.Domain.Persistence;
using Npgsql;
using NpgsqlTypes;

namespace Monolith.Domain.Queues;

/// <summary>
/// The figures of <c>GET /v1/queues</c>: per queue, how many jobs are in each state, how long the oldest due job
/// has waited, and whether the queue is paused. Built to stay cheap however many finished jobs the table keeps
/// (docs/queues.md): the live states are counted from the partial index <c>ix_jobs_live</c>, which holds only
/// waiting and running jobs; the terminal states are read from <see cref="QueueCountTotal"/> plus the pending
/// <see cref="QueueCountDelta"/> rows. One statement, so one snapshot: a job that finishes meanwhile is counted
/// once, in one state.
/// </summary>
public sealed class QueueFigures(MonolithDbContext db)
{
    /// <summary>
    /// The one query, scoped to a tenant (parameter <c>@tenant</c>) or not (the admin: every tenant summed).
    /// Parameter <c>@now</c> is the clock the states are read at, as in <see cref="JobQueries.EffectiveState"/>:
    /// a scheduled or retrying job whose time has come counts as queued. Public so that tests can EXPLAIN it.
    /// </summary>
    public static string Sql(bool tenantScoped)
    {
        var tenant = tenantScoped ? "AND tenant_id = @tenant" : "";
        return $"""
            WITH live AS (
                SELECT queue,
                       CASE WHEN state IN ('scheduled', 'retrying') AND scheduled_at <= @now THEN 'queued' ELSE state END AS state,
                       count(*) AS jobs,
                       min(scheduled_at) AS oldest
                FROM jobs
                WHERE state IN ('scheduled', 'queued', 'running', 'retrying') {tenant}
                GROUP BY 1, 2),
            finished AS (
                SELECT queue, state, sum(jobs)::bigint AS jobs
                FROM (SELECT queue, state, count AS jobs FROM queue_count_totals WHERE true {tenant}
                      UNION ALL
                      SELECT queue, state, delta FROM queue_count_deltas WHERE true {tenant}) AS counted
                GROUP BY 1, 2)
            SELECT queue, state, jobs, oldest, NULL::timestamptz AS paused_at FROM live
            UNION ALL
            SELECT queue, state, jobs, NULL, NULL FROM finished
            UNION ALL
            SELECT queue, NULL, 0, NULL, paused_at FROM queue_pauses
            """;
    }

    /// <summary>
    /// Every queue in <paramref name="configuredQueues"/> (in that order, with zeros where nothing is counted),
    /// then any other queue that has jobs in the scope or is paused (by name).
    /// </summary>
    /// <param name="tenantId">The tenant whose jobs are counted; null for every tenant (the admin).</param>
    /// <param name="now">The clock that tells a due job (queued) from one still waiting for its time.</param>
    public async Task<List<QueueFigure>> ListAsync(
        Guid? tenantId, IEnumerable<string> configuredQueues, DateTimeOffset now, CancellationToken ct)
    {
        var queues = new Dictionary<string, Builder>(StringComparer.Ordinal);
        foreach (var name in configuredQueues) queues.TryAdd(name, new Builder(name, queues.Count));

        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        var opened = connection.State != ConnectionState.Open;
        if (opened) await db.Database.OpenConnectionAsync(ct);
        try
        {
            await using var command = new NpgsqlCommand(Sql(tenantId is not null), connection);
            command.Parameters.Add(new NpgsqlParameter("now", NpgsqlDbType.TimestampTz) { Value = now });
            if (tenantId is { } tenant) command.Parameters.Add(new NpgsqlParameter("tenant", NpgsqlDbType.Uuid) { Value = tenant });
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var name = reader.GetString(0);
                if (!queues.TryGetValue(name, out var queue)) queues[name] = queue = new Builder(name, int.MaxValue);
                if (!reader.IsDBNull(4))
                {
                    queue.PausedAt = reader.GetFieldValue<DateTimeOffset>(4);
                    continue;
                }
                if (!JobStates.TryParse(reader.GetString(1), out var state)) continue;
                queue.Counts[state] += reader.GetInt64(2);
                if (state == JobState.Queued && !reader.IsDBNull(3))
                {
                    var waited = (now - reader.GetFieldValue<DateTimeOffset>(3)).TotalSeconds;
                    queue.OldestQueuedAgeSeconds = Math.Max(queue.OldestQueuedAgeSeconds, Math.Round(waited, 3));
                }
            }
        }
        finally
        {
            if (opened) await db.Database.CloseConnectionAsync();
        }

        return queues.Values.OrderBy(q => q.Order).ThenBy(q => q.Name, StringComparer.Ordinal).Select(q => q.Build()).ToList();
    }

    /// <param name="order">The position among the configured queues; int.MaxValue for any other (then by name).</param>
    private sealed class Builder(string name, int order)
    {
        public string Name { get; } = name;
        public int Order { get; } = order;
        public Dictionary<JobState, long> Counts { get; } = Enum.GetValues<JobState>().ToDictionary(s => s, _ => 0L);
        public double OldestQueuedAgeSeconds { get; set; }
        public DateTimeOffset? PausedAt { get; set; }

        public QueueFigure Build() => new(Name, Counts, OldestQueuedAgeSeconds, PausedAt);
    }
}

/// <summary>One queue's figures.</summary>
/// <param name="Counts">Jobs per state (every state present, zero when none).</param>
/// <param name="OldestQueuedAgeSeconds">How long the oldest queued (due) job has waited since it became due; 0 when none is queued.</param>
/// <param name="PausedAt">When the queue was paused; null when it is not.</param>
public sealed record QueueFigure(string Queue, IReadOnlyDictionary<JobState, long> Counts, double OldestQueuedAgeSeconds, DateTimeOffset? PausedAt)
{
    public bool Paused => PausedAt is not null;
}
