using Monolith.Tests.Features.Syncs;
using Monolith.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Monolith.Tests.Processes;

/// <summary>
/// The worker running a 50-page sync dies (SIGKILL) in the middle; the other worker resumes it from the last
/// committed checkpoint. The snapshot ends with exactly the source's records, and the source's own request log shows
/// that no committed page was fetched again and none was skipped: only the page in flight at the kill may repeat.
/// </summary>
[Collection("Processes")]
public sealed class SyncCrashTests(ITestOutputHelper output)
{
    private const int Pages = 50, PageSize = 20;

    [Fact]
    public async Task Worker_killed_mid_sync_resumes_on_the_other_from_the_checkpoint_with_exactly_the_sources_records()
    {
        await using var source = await SourceApi.StartAsync(count: Pages * PageSize, pageSize: PageSize);
        source.Delay = TimeSpan.FromMilliseconds(150); // ~7.5 s of pages: long enough to be caught in the middle
        await using var group = await ProcessGroup.CreateAsync(nameof(SyncCrashTests));
        await output.WithLogsOnFailureAsync(group, async () =>
        {
            // The api first: it migrates the fresh database alone, so the workers' start (and its 60 s limit) does not
            // wait behind it on a loaded machine.
            await group.StartAsync(new NodeSpec("api", "api-1"));
            await group.StartAsync(
                new NodeSpec("worker", "worker-1"),
                new NodeSpec("worker", "worker-2"));
            using var client = group["api-1"].CreateClient();

            var created = await client.CreateSyncAsync(SyncTestKit.Body(source, "page", "crash", rateLimitPerSecond: 100));

            SyncDto seen = null!;
            await ProcessTestKit.WaitUntilAsync("the sync is between pages 10 and 35", TimeSpan.FromSeconds(60),
                async () =>
                {
                    seen = await client.GetSyncAsync(created.Id);
                    return seen.Job?.State == "running" && seen.PagesFetched is >= 10 and <= 35;
                },
                () => Task.FromResult($"sync {seen?.State} at {seen?.PagesFetched} pages, job {seen?.Job?.State}"),
                TimeSpan.FromMilliseconds(20));
            var victim = await ProcessTestKit.ScalarAsync<string>(group.DatabaseUrl, "SELECT node FROM jobs WHERE id = @id", ("id", created.JobId));
            group[victim].Kill();
            Assert.True(await group[victim].WaitForExitAsync(TimeSpan.FromSeconds(10)), $"{victim} did not die");
            var killedAt = DateTime.UtcNow;
            // Nothing commits now until the other worker takes the job over (seconds later): this is the checkpoint it resumes from.
            var checkpoint = await ProcessTestKit.ScalarAsync<int>(group.DatabaseUrl,
                "SELECT (checkpoint->>'page')::int FROM syncs WHERE id = @id", ("id", created.Id));
            var committed = await ProcessTestKit.ScalarAsync<int>(group.DatabaseUrl,
                "SELECT pages_fetched FROM syncs WHERE id = @id", ("id", created.Id));
            var beforeKill = source.RequestsTo("page").Select(r => r.Page).ToList();

            var done = await client.WaitForSyncAsync(created.Id, s => s.State is "completed" or "failed" or "cancelled" && s.Job?.State is "succeeded" or "failed",
                "finished", TimeSpan.FromSeconds(120));
            var requests = source.RequestsTo("page").Select(r => r.Page).ToList();
            var afterKill = requests.Skip(beforeKill.Count).ToList();
            var attempts = await ProcessTestKit.QueryAsync(group.DatabaseUrl,
                "SELECT attempt, node, outcome FROM job_attempts WHERE job_id = @id ORDER BY attempt",
                r => $"{r.GetInt32(0)}:{r.GetString(2)}@{r.GetString(1)}", ("id", created.JobId));
            var twice = requests.GroupBy(p => p).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
            output.Report($"killed {victim} with {committed} pages committed (checkpoint: page {checkpoint}), {beforeKill.Count} pages asked for; " +
                          $"the sync ended {done.State} {(DateTime.UtcNow - killedAt).TotalSeconds:0.0} s later with {done.PagesFetched} pages and " +
                          $"{done.RecordsUpserted} records; {requests.Count} requests, page(s) asked twice: [{string.Join(", ", twice)}]; attempts: {string.Join(", ", attempts)}");

            Assert.Equal("completed", done.State);
            SyncTestKit.AssertSameRecords(source.Records(), await client.AllRecordsAsync("crash"));
            Assert.Equal(Pages, done.PagesFetched);
            Assert.Equal(Pages * PageSize, done.RecordsUpserted);

            // The checkpoint is the page after the last committed one.
            Assert.Equal(committed + 1, checkpoint);
            // Before the kill: pages 1 .. checkpoint-1 (committed), and perhaps the checkpoint's page itself (in flight).
            Assert.Equal(Enumerable.Range(1, checkpoint - 1), beforeKill.Take(checkpoint - 1));
            Assert.InRange(beforeKill.Count, checkpoint - 1, checkpoint);
            // After the kill the other worker started exactly at the checkpoint and asked for each later page once:
            // no committed page again, none skipped.
            Assert.Equal(Enumerable.Range(checkpoint, Pages - checkpoint + 1), afterKill);
            // So every page was asked for once, except at most one (the page in flight at the kill), asked twice.
            Assert.Equal(Enumerable.Range(1, Pages), requests.Distinct().Order());
            Assert.True(twice.Count <= 1 && twice.All(p => p == checkpoint), $"pages asked twice: [{string.Join(", ", twice)}]");
            Assert.All(requests.GroupBy(p => p), g => Assert.InRange(g.Count(), 1, 2));

            Assert.Contains(attempts, a => a.StartsWith("1:lost@" + victim, StringComparison.Ordinal));
            Assert.Contains(attempts, a => a.Contains(":succeeded@", StringComparison.Ordinal) && !a.EndsWith(victim, StringComparison.Ordinal));
        });
    }
}
