using Npgsql;
using NpgsqlTypes;

namespace Monolith.Domain.Jobs;

/// <summary>
/// The engine's hot path into the jobs table, in plain Npgsql: claim many due jobs in one prepared statement (the
/// <c>monolith_claim</c> function, see the StandingDispatch migration) and hand back jobs a node claimed but never
/// started. No entity tracking, no DI scope: a claim reads the columns an attempt needs and nothing else.
/// </summary>
public sealed class JobClaims(NpgsqlDataSource dataSource)
{
    /// <summary>The SQLSTATE <c>monolith_claim</c> raises when the claiming firing is no longer live in Quartz.</summary>
    public const string FiringNotLive = "MN001";

    private const string ClaimSql = """
        SELECT id, tenant_id, type, queue, priority, payload, attempt, max_attempts, timeout_seconds, backoff_seconds,
               created_at, scheduled_at, started_at, lease_token, cancel_requested_at, callback_url, trace_parent,
               result_ttl_seconds, node, ticket_id
        FROM monolith_claim($1, $2, $3, $4, $5, $6, $7, $8)
        """;

    private const string HandBackSql = """
        WITH returned AS (
            UPDATE jobs j SET state = 'queued', attempt = j.attempt - $3, lease_token = NULL, node = NULL, ticket_id = NULL,
                   started_at = NULL,
                   -- An until_started job left its key's window when it was claimed; if a new job took the key since,
                   -- this one goes back without it (two waiting jobs of one key would break ux_jobs_unique_key).
                   unique_key = CASE WHEN j.unique_scope = 'until_started' AND EXISTS (
                                    SELECT 1 FROM jobs o WHERE o.tenant_id = j.tenant_id AND o.unique_key = j.unique_key
                                      AND o.id <> j.id AND o.state IN ('scheduled', 'queued'))
                                THEN NULL ELSE j.unique_key END
            FROM unnest($1::uuid[], $2::uuid[]) AS h(id, lease)
            WHERE j.id = h.id AND j.lease_token = h.lease AND j.state = 'running'
            RETURNING j.id)
        SELECT count(*)::int FROM returned
        """;

    /// <summary>
    /// Claims up to <paramref name="limit"/> due jobs of <paramref name="queues"/> (tried in that order) for the firing
    /// <paramref name="firingId"/> on <paramref name="node"/>: tenants take turns within a queue and priority, starting
    /// after <paramref name="startAfter"/>; at most <paramref name="tenantCap"/> jobs of one tenant run at once across the
    /// cluster (0: no cap). With <paramref name="fireInstanceId"/>, the claim is fenced on that Quartz firing still being
    /// live (a <see cref="PostgresException"/> with <see cref="FiringNotLive"/> otherwise).
    /// </summary>
    public async Task<List<Job>> ClaimAsync(
        IReadOnlyList<string> queues, int limit, string node, Guid firingId, string cluster, string? fireInstanceId,
        Guid startAfter, int tenantCap, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var command = new NpgsqlCommand(ClaimSql, connection)
        {
            Parameters =
            {
                new NpgsqlParameter<string[]> { TypedValue = queues as string[] ?? [.. queues], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text },
                new NpgsqlParameter<int> { TypedValue = limit },
                new NpgsqlParameter<string> { TypedValue = node, NpgsqlDbType = NpgsqlDbType.Text },
                new NpgsqlParameter<Guid> { TypedValue = firingId },
                new NpgsqlParameter<string> { TypedValue = cluster, NpgsqlDbType = NpgsqlDbType.Text },
                new NpgsqlParameter { Value = (object?)fireInstanceId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text },
                new NpgsqlParameter<Guid> { TypedValue = startAfter },
                new NpgsqlParameter<int> { TypedValue = tenantCap },
            },
        };
        await command.PrepareAsync(ct); // once per physical connection: Npgsql keeps it prepared across the pool
        var claimed = new List<Job>(Math.Min(limit, 256));
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            claimed.Add(new Job
            {
                Id = reader.GetGuid(0),
                TenantId = reader.GetGuid(1),
                Type = reader.GetString(2),
                Queue = reader.GetString(3),
                Priority = reader.GetInt32(4),
                State = JobState.Running,
                Payload = reader.GetString(5),
                Attempt = reader.GetInt32(6),
                MaxAttempts = reader.GetInt32(7),
                TimeoutSeconds = reader.IsDBNull(8) ? null : reader.GetInt32(8),
                BackoffSeconds = reader.GetDouble(9),
                CreatedAt = reader.GetFieldValue<DateTimeOffset>(10),
                ScheduledAt = reader.GetFieldValue<DateTimeOffset>(11),
                StartedAt = reader.IsDBNull(12) ? null : reader.GetFieldValue<DateTimeOffset>(12),
                LeaseToken = reader.IsDBNull(13) ? null : reader.GetGuid(13),
                CancelRequestedAt = reader.IsDBNull(14) ? null : reader.GetFieldValue<DateTimeOffset>(14),
                CallbackUrl = reader.IsDBNull(15) ? null : reader.GetString(15),
                TraceParent = reader.IsDBNull(16) ? null : reader.GetString(16),
                ResultTtlSeconds = reader.IsDBNull(17) ? null : reader.GetInt32(17),
                Node = reader.IsDBNull(18) ? null : reader.GetString(18),
                TicketId = reader.IsDBNull(19) ? null : reader.GetGuid(19),
            });
        }
        return claimed;
    }

    /// <summary>
    /// Gives back jobs this node claimed, fenced by their leases: each is waiting again, due now. Jobs that never started
    /// (the local buffer, when the node stops) have the claim's attempt uncounted; jobs that ran but whose outcome could
    /// not be stored keep it (<paramref name="attemptUsed"/>), so retrying them is bounded by their attempts. Tells idle
    /// worker nodes at commit (<paramref name="wakeChannel"/>), so another node takes them at once. Returns how many.
    /// </summary>
    public async Task<int> HandBackAsync(IReadOnlyCollection<Job> jobs, bool attemptUsed, string wakeChannel, CancellationToken ct)
    {
        if (jobs.Count == 0) return 0;
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await using var command = new NpgsqlCommand(HandBackSql, connection, tx)
        {
            Parameters =
            {
                new NpgsqlParameter<Guid[]> { TypedValue = [.. jobs.Select(j => j.Id)] },
                new NpgsqlParameter<Guid[]> { TypedValue = [.. jobs.Select(j => j.LeaseToken ?? Guid.Empty)] },
                new NpgsqlParameter<int> { TypedValue = attemptUsed ? 0 : 1 },
            },
        };
        var returned = (int)(await command.ExecuteScalarAsync(ct))!;
        await using (var notify = new NpgsqlCommand("SELECT pg_notify($1, '')", connection, tx))
        {
            notify.Parameters.Add(new NpgsqlParameter<string> { TypedValue = wakeChannel, NpgsqlDbType = NpgsqlDbType.Text });
            await notify.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        return returned;
    }
}
