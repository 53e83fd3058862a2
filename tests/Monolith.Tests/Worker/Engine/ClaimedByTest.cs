using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Domain.Jobs;
using Monolith.Domain.Persistence;
using Monolith.Tests.Infrastructure;
using Monolith.Tests.Processes;
using Npgsql;

namespace Monolith.Tests.Worker.Engine;

/// <summary>
/// Engine writers fed directly by a test: jobs submitted for later and claimed by the test itself, as a node would
/// (so no worker of the node runs them), and a row lock that holds a writer's statement back.
/// </summary>
public static class ClaimedByTest
{
    /// <summary>Submits <paramref name="count"/> noop jobs due in an hour and claims them under the test's own leases.</summary>
    public static async Task<List<Job>> ClaimAsync(MonolithFactory app, HttpClient client, int count)
    {
        var ids = new List<Guid>();
        for (var i = 0; i < count; i++) ids.Add((await client.SubmitJobAsync("noop", new { }, new { delaySeconds = 3600 })).Id);
        using var scope = app.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<MonolithDbContext>();
        var idArray = ids.ToArray();
        var claimed = await db.Jobs.FromSql($"""
            UPDATE jobs SET state = 'running', attempt = attempt + 1, lease_token = gen_random_uuid(), node = 'test-node',
                   ticket_id = gen_random_uuid(), started_at = now()
            WHERE id = ANY({idArray}) RETURNING *
            """).AsNoTracking().ToListAsync();
        return ids.Select(id => claimed.Single(j => j.Id == id)).ToList();
    }

    /// <summary>A transaction holding <paramref name="jobId"/>'s row locked until it is disposed (then rolled back).</summary>
    public static async Task<IAsyncDisposable> LockRowAsync(string databaseUrl, Guid jobId)
    {
        var connection = await TestDatabase.OpenAsync(databaseUrl);
        var tx = await connection.BeginTransactionAsync();
        await using var command = new NpgsqlCommand("SELECT 1 FROM jobs WHERE id = @id FOR UPDATE", connection, tx);
        command.Parameters.AddWithValue("id", jobId);
        await command.ExecuteScalarAsync();
        return new RowLock(connection, tx);
    }

    /// <summary>Waits (at most 30 s) until a statement of this database whose text contains <paramref name="sqlFragment"/> waits for a lock.</summary>
    public static Task WaitUntilStatementWaitsAsync(string databaseUrl, string sqlFragment) =>
        ProcessTestKit.WaitUntilAsync($"a statement with '{sqlFragment}' waits for a lock", TimeSpan.FromSeconds(30),
            async () => await ProcessTestKit.ScalarAsync<long>(databaseUrl,
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND strpos(query, @fragment) > 0",
                ("fragment", sqlFragment)) > 0,
            () => Task.FromResult("none did"),
            TimeSpan.FromMilliseconds(20));

    private sealed class RowLock(NpgsqlConnection connection, NpgsqlTransaction tx) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await tx.RollbackAsync();
            await tx.DisposeAsync();
            await connection.DisposeAsync();
        }
    }
}
