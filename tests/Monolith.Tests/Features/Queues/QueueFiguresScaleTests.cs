using System.Diagnostics;
using Monolith.Domain.Queues;
using Monolith.Tests.Infrastructure;
using Xunit.Abstractions;
using Monolith.Tests.Processes;
using Npgsql;
using NpgsqlTypes;

namespace Monolith.Tests.Features.Queues;

/// <summary>
/// GET /v1/queues stays cheap with a million finished jobs in the table (an autoscaler polls it): it reads the
/// counters and the partial index of live jobs, never the finished rows. Prints its response times and plans.
/// </summary>
public sealed class QueueFiguresScaleTests(MonolithFactory app, ITestOutputHelper output) : IClassFixture<MonolithFactory>
{
    private const int FinishedJobs = 1_000_000;
    private static readonly string[] Queues = ["critical", "default", "low"];

    [Fact]
    public async Task MillionFinishedJobs_FiguresAreRight_AndCheap()
    {
        var (alice, aliceId) = await app.CreateTenantAsync();
        var (bob, bobId) = await app.CreateTenantAsync();
        using var admin = app.CreateAdminClient();
        await alice.SubmitJobAsync("noop", new { }, new { delaySeconds = 3600 });
        await alice.SubmitJobAsync("noop", new { }, new { queue = "low", delaySeconds = 3600 });
        await bob.SubmitJobAsync("noop", new { }, new { delaySeconds = 3600 });

        // Finished jobs straight into the table, one statement: the insert trigger counts them all. Their ids are
        // time-ordered like the service's (UUIDv7 of a day ago), which keeps the primary key's inserts cheap.
        var clock = Stopwatch.StartNew();
        await using (var connection = await TestDatabase.OpenAsync(app.DatabaseUrl))
        {
            await using var insert = new NpgsqlCommand("""
                INSERT INTO jobs (id, tenant_id, type, queue, priority, state, payload, attempt, max_attempts, backoff_seconds,
                                  created_at, scheduled_at, started_at, finished_at)
                SELECT (lpad(to_hex((extract(epoch FROM now() - interval '1 day') * 1000)::bigint), 12, '0') || '7000' || '8' || lpad(to_hex(g), 15, '0'))::uuid,
                       CASE WHEN g % 10 = 0 THEN @bob ELSE @alice END, 'noop', (ARRAY['critical', 'default', 'low'])[1 + g % 3],
                       0, CASE g % 100 WHEN 0 THEN 'failed' WHEN 1 THEN 'cancelled' ELSE 'succeeded' END, '{}', 1, 3, 1,
                       now() - interval '1 day', now() - interval '1 day', now() - interval '1 day', now() - interval '1 day'
                FROM generate_series(1, @n) AS g
                """, connection) { CommandTimeout = 600 };
            insert.Parameters.AddWithValue("alice", aliceId);
            insert.Parameters.AddWithValue("bob", bobId);
            insert.Parameters.AddWithValue("n", FinishedJobs);
            await insert.ExecuteNonQueryAsync();
        }
        output.Report($"inserted {FinishedJobs:N0} finished jobs in {clock.Elapsed.TotalSeconds:0.0} s " +
                      $"(delta rows appended: {await QueueTestKit.ScalarAsync(app.DatabaseUrl, "SELECT count(*) FROM queue_count_deltas")})");

        var expected = new Dictionary<(Guid, string), CountsDto>();
        foreach (var tenant in new[] { aliceId, bobId })
        {
            foreach (var queue in Queues) expected[(tenant, queue)] = CountsDto.Zero;
        }
        for (var g = 1; g <= FinishedJobs; g++)
        {
            var key = (g % 10 == 0 ? bobId : aliceId, Queues[g % 3]);
            var c = expected[key];
            expected[key] = (g % 100) switch
            {
                0 => c with { Failed = c.Failed + 1 },
                1 => c with { Cancelled = c.Cancelled + 1 },
                _ => c with { Succeeded = c.Succeeded + 1 },
            };
        }
        expected[(aliceId, "default")] = expected[(aliceId, "default")] with { Scheduled = 1 };
        expected[(aliceId, "low")] = expected[(aliceId, "low")] with { Scheduled = 1 };
        expected[(bobId, "default")] = expected[(bobId, "default")] with { Scheduled = 1 };

        foreach (var (client, tenant) in new[] { (alice, aliceId), (bob, bobId) })
        {
            var figures = (await client.GetQueuesAsync()).Items.ToDictionary(q => q.Name, q => q.Counts);
            foreach (var queue in Queues) Assert.Equal(expected[(tenant, queue)], figures[queue]);
        }
        var all = (await admin.GetQueuesAsync()).Items.ToDictionary(q => q.Name, q => q.Counts);
        foreach (var queue in Queues)
        {
            var (a, b) = (expected[(aliceId, queue)], expected[(bobId, queue)]);
            Assert.Equal(new CountsDto(a.Scheduled + b.Scheduled, 0, 0, 0, a.Succeeded + b.Succeeded, a.Failed + b.Failed, a.Cancelled + b.Cancelled), all[queue]);
        }
        Assert.Equal(FinishedJobs, all.Values.Sum(c => c.Succeeded + c.Failed + c.Cancelled));

        await ReportTimingsAsync("before compaction", alice, admin);
        await ExplainAsync(aliceId);
        clock.Restart();
        await using (var connection = await TestDatabase.OpenAsync(app.DatabaseUrl))
        {
            var folded = await QueueCounters.CompactAsync(connection, CancellationToken.None);
            output.Report($"compaction: {folded.DeltasMoved} delta rows into {folded.TotalsChanged} totals in {clock.ElapsedMilliseconds} ms");
        }
        await ReportTimingsAsync("after compaction", alice, admin);
        Assert.Equal(all, (await admin.GetQueuesAsync()).Items.ToDictionary(q => q.Name, q => q.Counts));

        // For comparison: what counting the table itself costs.
        clock.Restart();
        await QueueTestKit.ScalarAsync(app.DatabaseUrl, "SELECT count(*) FROM (SELECT queue, state, count(*) FROM jobs GROUP BY 1, 2) AS naive");
        output.Report($"for comparison, GROUP BY over the jobs table itself: {clock.ElapsedMilliseconds} ms");
    }

    private async Task ReportTimingsAsync(string when, HttpClient tenant, HttpClient admin)
    {
        foreach (var (who, client) in new[] { ("tenant", tenant), ("admin", admin) })
        {
            for (var i = 0; i < 3; i++) await client.GetQueuesAsync(); // warm up
            var times = new List<double>();
            for (var i = 0; i < 30; i++)
            {
                var clock = Stopwatch.StartNew();
                await client.GetQueuesAsync();
                times.Add(clock.Elapsed.TotalMilliseconds);
            }
            times.Sort();
            output.Report($"GET /v1/queues ({who} key, {when}, {FinishedJobs:N0} finished jobs): " +
                          $"median {times[times.Count / 2]:0.0} ms, max {times[^1]:0.0} ms over {times.Count} calls");
            Assert.True(times[times.Count / 2] < 250, $"median {times[times.Count / 2]} ms");
        }
    }

    private async Task ExplainAsync(Guid tenantId)
    {
        await using var connection = await TestDatabase.OpenAsync(app.DatabaseUrl);
        foreach (var scoped in new[] { true, false })
        {
            await using var explain = new NpgsqlCommand("EXPLAIN (ANALYZE, BUFFERS) " + QueueFigures.Sql(scoped), connection);
            explain.Parameters.Add(new NpgsqlParameter("now", NpgsqlDbType.TimestampTz) { Value = DateTimeOffset.UtcNow });
            if (scoped) explain.Parameters.Add(new NpgsqlParameter("tenant", NpgsqlDbType.Uuid) { Value = tenantId });
            var plan = new List<string>();
            await using (var reader = await explain.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync()) plan.Add(reader.GetString(0));
            }
            output.Report($"EXPLAIN ANALYZE of the figures query, {(scoped ? "tenant key" : "admin key")}:\n" + string.Join('\n', plan));
        }
    }
}
