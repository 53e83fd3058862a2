using Npgsql;

namespace Monolith.Worker.Jobs.Syncs;

/// <summary>
/// Requests per second to one source, held across every node: the next free slot of each source lives in
/// <c>rate_limits</c>, and a caller reserves one with a single atomic upsert that moves it one interval forward,
/// then waits until its slot. Times are the database's (<c>now()</c>), so nodes' clocks need not agree. A slot
/// reserved by a run that then stops is simply unused (the limit errs on the slow side).
/// </summary>
public sealed class SourceRateLimiter(NpgsqlDataSource dataSource)
{
    /// <summary>Waits until this caller may send one request to the source named by <paramref name="key"/>.</summary>
    public async Task WaitAsync(string key, double perSecond, CancellationToken ct)
    {
        var interval = TimeSpan.FromSeconds(1 / perSecond);
        await using var command = dataSource.CreateCommand("""
            INSERT INTO rate_limits AS r (key, next_at) VALUES ($1, now() + $2)
            ON CONFLICT (key) DO UPDATE SET next_at = greatest(r.next_at, now()) + $2
            RETURNING r.next_at - $2 - now()
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = key });
        command.Parameters.Add(new NpgsqlParameter { Value = interval });
        var wait = (TimeSpan)(await command.ExecuteScalarAsync(ct))!;
        if (wait > TimeSpan.Zero) await Task.Delay(wait, ct);
    }

    /// <summary>Nobody sends to the source before <paramref name="delay"/> from now (a 429's Retry-After, for every node).</summary>
    public async Task PushBackAsync(string key, TimeSpan delay, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO rate_limits AS r (key, next_at) VALUES ($1, now() + $2)
            ON CONFLICT (key) DO UPDATE SET next_at = greatest(r.next_at, now() + $2)
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = key });
        command.Parameters.Add(new NpgsqlParameter { Value = delay });
        await command.ExecuteNonQueryAsync(ct);
    }
}
