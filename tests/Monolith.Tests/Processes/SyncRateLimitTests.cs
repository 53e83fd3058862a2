using Monolith.Tests.Features.Syncs;
using Monolith.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Monolith.Tests.Processes;

/// <summary>
/// A source's rate limit holds across nodes: two syncs of one source run at once on two worker processes (one
/// slot each, so each worker takes one), and the source measures the requests' arrival times.
/// </summary>
[Collection("Processes")]
public sealed class SyncRateLimitTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Two_syncs_of_one_source_on_two_workers_share_its_rate_limit()
    {
        const double perSecond = 4;
        await using var source = await SourceApi.StartAsync(count: 100, pageSize: 10); // 10 pages per sync
        await using var group = await ProcessGroup.CreateAsync(nameof(SyncRateLimitTests));
        await output.WithLogsOnFailureAsync(group, async () =>
        {
            var oneSlot = new Dictionary<string, string> { ["WORKER_CONCURRENCY"] = "1" };
            // The api first: it migrates the fresh database alone, so the workers' start (and its 60 s limit) does not
            // wait behind it on a loaded machine.
            await group.StartAsync(new NodeSpec("api", "api-1"));
            await group.StartAsync(
                new NodeSpec("worker", "worker-1", oneSlot),
                new NodeSpec("worker", "worker-2", oneSlot));
            using var client = group["api-1"].CreateClient();

            var syncs = await Task.WhenAll(
                client.CreateSyncAsync(SyncTestKit.Body(source, "page", "nodes-a", rateLimitPerSecond: perSecond)),
                client.CreateSyncAsync(SyncTestKit.Body(source, "page", "nodes-b", rateLimitPerSecond: perSecond)));
            foreach (var sync in syncs) Assert.Equal("completed", (await client.WaitUntilFinishedAsync(sync.Id, TimeSpan.FromSeconds(90))).State);

            var nodes = await ProcessTestKit.QueryAsync(group.DatabaseUrl,
                "SELECT DISTINCT node FROM job_attempts WHERE job_id = ANY(@ids)", r => r.GetString(0), ("ids", syncs.Select(s => s.JobId).ToArray()));
            var times = source.RequestsTo("page").Select(r => r.At).Order().ToList();
            // Slots are 250 ms apart and a request is never early, but may be late: three processes on a loaded machine.
            // Tolerance: up to 500 ms late, so at most rate + 3 in any 1 s window, and the 20 requests span at least
            // (20 - 3) / rate seconds. Without the shared limit, two syncs make 20 requests in well under a second.
            var busiest = times.Max(t => times.Count(u => u >= t && u < t + TimeSpan.FromSeconds(1)));
            var span = times[^1] - times[0];
            output.Report($"two syncs on {string.Join(" and ", nodes)}: {times.Count} requests over {span.TotalSeconds:0.00} s " +
                          $"({(times.Count - 1) / span.TotalSeconds:0.00}/s), at most {busiest} in any 1 s window (limit {perSecond}/s)");

            Assert.Equal(2, nodes.Count); // each sync ran on its own worker process
            Assert.True(await ProcessTestKit.ScalarAsync<bool>(group.DatabaseUrl,
                "SELECT max(started_at) < min(finished_at) FROM syncs WHERE id = ANY(@ids)", ("ids", syncs.Select(s => s.Id).ToArray())),
                "the two syncs did not run at the same time");
            Assert.Equal(20, times.Count);
            Assert.InRange(busiest, 1, (int)perSecond + 3);
            Assert.True(span >= TimeSpan.FromSeconds((times.Count - 3) / perSecond), $"{times.Count} requests in {span.TotalSeconds:0.00} s: faster than {perSecond}/s");
        });
    }
}
