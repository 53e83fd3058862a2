using System.Diagnostics;
using Monolith.Domain.Queues;
using Monolith.Tests.Infrastructure;
using Xunit.Abstractions;
using Npgsql;

namespace Monolith.Tests.Features.Queues;

/// <summary>
/// The terminal-state counters: the triggers on jobs append deltas only when a terminal count changes, and the
/// compaction folds them into the totals without changing the figures, also while jobs finish meanwhile.
/// </summary>
public sealed class QueueCountersTests(MonolithFactory app, ITestOutputHelper output) : IClassFixture<MonolithFactory>
{
    private const string InsertJob = """
        INSERT INTO jobs (id, tenant_id, type, queue, priority, state, payload, attempt, max_attempts, backoff_seconds, created_at, scheduled_at)
        VALUES (@id, @tenant, 'noop', 'default', 0, 'running', '{}', 1, 3, 1, now(), now())
        """;

    [Fact]
    public async Task Triggers_AppendDeltas_OnlyWhenATerminalCountChanges()
    {
        var tenant = Guid.NewGuid();
        var id = Guid.NewGuid();
        await using var connection = await TestDatabase.OpenAsync(app.DatabaseUrl);
        // All in one transaction, rolled back: the compactor cannot see (or fold) these deltas meanwhile.
        await using var tx = await connection.BeginTransactionAsync();
        async Task RunAsync(string sql)
        {
            await using var command = new NpgsqlCommand(sql, connection, tx);
            command.Parameters.AddWithValue("id", id);
            command.Parameters.AddWithValue("tenant", tenant);
            await command.ExecuteNonQueryAsync();
        }
        async Task<List<string>> DeltasAsync()
        {
            await using var command = new NpgsqlCommand(
                "SELECT queue || ' ' || state || ' ' || delta FROM queue_count_deltas WHERE tenant_id = @tenant ORDER BY id", connection, tx);
            command.Parameters.AddWithValue("tenant", tenant);
            var rows = new List<string>();
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync()) rows.Add(reader.GetString(0));
            return rows;
        }

        await RunAsync(InsertJob);                                                       // a running job
        await RunAsync("UPDATE jobs SET progress_percent = 50 WHERE id = @id");          // progress: no state change
        await RunAsync("UPDATE jobs SET cancel_requested_at = now() WHERE id = @id");    // a cancel request
        Assert.Empty(await DeltasAsync());

        await RunAsync("UPDATE jobs SET state = 'failed', finished_at = now() WHERE id = @id");
        await RunAsync("UPDATE jobs SET last_error = 'still failed' WHERE id = @id");    // terminal, but no change
        Assert.Equal(["default failed 1"], await DeltasAsync());

        await RunAsync("UPDATE jobs SET state = 'queued', attempt = 0 WHERE id = @id");  // a client's retry
        Assert.Equal(["default failed 1", "default failed -1"], await DeltasAsync());

        // A statement of many rows appends one summed row per tenant, queue and state.
        await RunAsync("""
            INSERT INTO jobs (id, tenant_id, type, queue, priority, state, payload, attempt, max_attempts, backoff_seconds, created_at, scheduled_at)
            SELECT gen_random_uuid(), @tenant, 'noop', 'low', 0, 'succeeded', '{}', 1, 3, 1, now(), now() FROM generate_series(1, 3)
            """);
        await RunAsync("UPDATE jobs SET queue = 'critical' WHERE tenant_id = @tenant AND state = 'succeeded' AND id IN (SELECT id FROM jobs WHERE tenant_id = @tenant AND state = 'succeeded' LIMIT 1)");
        await RunAsync("DELETE FROM jobs WHERE tenant_id = @tenant");
        Assert.Equal(["critical succeeded -1", "critical succeeded 1", "default failed -1", "default failed 1",
                      "low succeeded -1", "low succeeded -2", "low succeeded 3"], (await DeltasAsync()).Order(StringComparer.Ordinal));

        await tx.RollbackAsync();
    }

    [Fact]
    public async Task Compaction_FoldsDeltas_WithoutChangingTheFigures()
    {
        var (client, tenantId) = await app.CreateTenantAsync();
        using var admin = app.CreateAdminClient();
        var jobs = new[]
        {
            await client.SubmitJobAsync("noop", new { }), await client.SubmitJobAsync("noop", new { }),
            await client.SubmitJobAsync("noop", new { }, new { queue = "low" }),
            await client.SubmitJobAsync("fail", new { failTimes = 1, retryable = false }),
        };
        var cancelled = await client.SubmitJobAsync("noop", new { }, new { delaySeconds = 3600 });
        await client.PostAsync($"/v1/jobs/{cancelled.Id}/cancel", null);
        foreach (var job in jobs) await client.WaitForStateAsync(job.Id, job.Type == "fail" ? "failed" : "succeeded");
        var tenantBefore = await client.GetQueuesAsync();
        var adminBefore = await admin.GetQueuesAsync();
        var pending = await QueueTestKit.ScalarAsync(app.DatabaseUrl, "SELECT count(*) FROM queue_count_deltas WHERE tenant_id = @t", ("t", tenantId));

        CompactionResult result;
        await using (var connection = await TestDatabase.OpenAsync(app.DatabaseUrl))
        {
            result = await QueueCounters.CompactAsync(connection, CancellationToken.None);
        }

        output.WriteLine($"{pending} delta row(s) of this tenant pending; compaction moved {result.DeltasMoved}, changed {result.TotalsChanged} total(s)");
        Assert.Equal(0, await QueueTestKit.ScalarAsync(app.DatabaseUrl, "SELECT count(*) FROM queue_count_deltas WHERE tenant_id = @t", ("t", tenantId)));
        Assert.Equal(tenantBefore.Items, (await client.GetQueuesAsync()).Items);
        Assert.Equal(adminBefore.Items, (await admin.GetQueuesAsync()).Items);
        Assert.Equal(new CountsDto(0, 0, 0, 0, Succeeded: 2, Failed: 1, Cancelled: 1), tenantBefore.Items.Single(q => q.Name == "default").Counts);
        Assert.Equal(new CountsDto(0, 0, 0, 0, Succeeded: 1, 0, 0), tenantBefore.Items.Single(q => q.Name == "low").Counts);
        // The totals alone now hold the tenant's terminal counts.
        Assert.Equal(5, await QueueTestKit.ScalarAsync(app.DatabaseUrl, "SELECT sum(count) FROM queue_count_totals WHERE tenant_id = @t", ("t", tenantId)));
    }

    [Fact]
    public async Task Counters_MatchTheJobsTable_WhileJobsFinishAndCompactionsRunAtOnce()
    {
        var (client, tenantId) = await app.CreateTenantAsync();
        using var stop = new CancellationTokenSource();
        var compactions = 0L;
        var moved = 0L;
        // Two compactors at once, in a loop, while the workers finish jobs (as two nodes' compactors would, were
        // Quartz to let them).
        var compactors = Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
        {
            await using var connection = await TestDatabase.OpenAsync(app.DatabaseUrl);
            while (!stop.IsCancellationRequested)
            {
                var result = await QueueCounters.CompactAsync(connection, CancellationToken.None);
                Interlocked.Increment(ref compactions);
                Interlocked.Add(ref moved, result.DeltasMoved);
                await Task.Delay(5);
            }
        })).ToArray();

        var submitted = new List<Task<JobDto>>();
        for (var i = 0; i < 300; i++)
        {
            submitted.Add(i % 10 == 0
                ? client.SubmitJobAsync("fail", new { failTimes = 1, retryable = false }, new { queue = "low" })
                : client.SubmitJobAsync("noop", new { }, new { queue = i % 3 == 0 ? "critical" : "default" }));
            if (submitted.Count % 16 == 0) await Task.WhenAll(submitted);
        }
        await Task.WhenAll(submitted);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var all = (await client.GetQueuesAsync()).Items;
            if (all.Sum(q => q.Counts.Succeeded + q.Counts.Failed) == 300) break;
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), "jobs did not finish: " + string.Join("; ", all));
            await Task.Delay(100);
        }
        await stop.CancelAsync();
        await Task.WhenAll(compactors);

        var truth = await QueueTestKit.CountFromJobsAsync(app.DatabaseUrl, tenantId);
        var figures = (await client.GetQueuesAsync()).Items;
        output.WriteLine($"{compactions} compactions moved {moved} delta rows; figures: {string.Join("; ", figures)}");
        foreach (var queue in figures)
        {
            Assert.Equal(truth.GetValueOrDefault((queue.Name, "succeeded")), queue.Counts.Succeeded);
            Assert.Equal(truth.GetValueOrDefault((queue.Name, "failed")), queue.Counts.Failed);
        }
        Assert.Equal(30, figures.Single(q => q.Name == "low").Counts.Failed);
        Assert.Equal(270, figures.Sum(q => q.Counts.Succeeded));
    }

    [Fact]
    public async Task ScheduledCompactor_FoldsPendingDeltas()
    {
        var (client, tenantId) = await app.CreateTenantAsync();
        var job = await client.SubmitJobAsync("noop", new { });
        await client.WaitForStateAsync(job.Id, "succeeded");

        Assert.Equal(1, await QueueTestKit.ScalarAsync(app.DatabaseUrl,
            "SELECT count(*) FROM quartz.qrtz_triggers WHERE trigger_name = 'QueueCountsCompactor'"));
        var clock = Stopwatch.StartNew();
        while (await QueueTestKit.ScalarAsync(app.DatabaseUrl, "SELECT count(*) FROM queue_count_deltas WHERE tenant_id = @t", ("t", tenantId)) > 0)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(25), "the scheduled compactor did not fold the deltas within 25 s");
            await Task.Delay(200);
        }
        output.WriteLine($"folded by the scheduled compactor after {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.Equal(1, await QueueTestKit.ScalarAsync(app.DatabaseUrl,
            "SELECT count FROM queue_count_totals WHERE tenant_id = @t AND queue = 'default' AND state = 'succeeded'", ("t", tenantId)));
        Assert.Equal(1, (await client.GetQueueAsync("default")).Counts.Succeeded);
    }
}
