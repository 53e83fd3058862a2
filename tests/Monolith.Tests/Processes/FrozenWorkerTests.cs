using Monolith.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Monolith.Tests.Processes;

/// <summary>
/// A worker frozen (SIGSTOP) past the recovery bound is taken for dead and its jobs re-run elsewhere. When it
/// wakes (SIGCONT) its late writes are refused by the lease tokens: the outcome stays the re-run's.
/// </summary>
[Collection("Processes")]
public sealed class FrozenWorkerTests(ITestOutputHelper output)
{
    [Fact]
    public async Task FrozenWorker_ResumedAfterRecovery_CannotOverwriteTheReRunsOutcome()
    {
        await using var group = await ProcessGroup.CreateAsync("frozen");
        await group.StartAsync(new NodeSpec("api", "api-1"), new NodeSpec("worker", "worker-1"));
        var db = group.DatabaseUrl;
        await output.WithLogsOnFailureAsync(group, async () =>
        {
            using var client = group["api-1"].CreateClient();
            // Long enough to outlast the freeze on the frozen node, short enough to re-run quickly.
            var ids = await Task.WhenAll(Enumerable.Range(0, 3).Select(async _ =>
                (await client.SubmitJobAsync("sleep", new { ms = 4000 }, new { maxAttempts = 3 })).Id));
            await ProcessTestKit.WaitUntilAllRunningAsync(db, ids);

            var frozen = group["worker-1"];
            await frozen.SignalAsync(ServiceProcess.SIGSTOP);
            var survivor = (await group.StartAsync(new NodeSpec("worker", "worker-2")))[0];
            var recovered = await ProcessTestKit.WaitAllSucceededAsync(db, ids, TimeSpan.FromSeconds(60));
            await frozen.SignalAsync(ServiceProcess.SIGCONT);
            // The woken node finishes or stops its stale attempts (4 s sleeps), each telling in a warning that its lease
            // was no longer current (its write refused, or the attempt stopped): wait for the three warnings.
            await ProcessTestKit.WaitUntilAsync($"worker-1 ended its {ids.Length} stale attempts", TimeSpan.FromSeconds(30),
                () => Task.FromResult(frozen.Lines.Count(l => l.Contains("lease was no longer current", StringComparison.Ordinal)) >= ids.Length),
                () => Task.FromResult(frozen.Tail(20)), TimeSpan.FromMilliseconds(100));

            var attempts = await ProcessTestKit.QueryAsync(db,
                "SELECT job_id, attempt, node, outcome FROM job_attempts WHERE job_id = ANY(@ids) ORDER BY job_id, id",
                r => (Job: r.GetGuid(0), Attempt: r.GetInt32(1), Node: r.GetString(2), Outcome: r.GetString(3)), ("ids", ids));
            var jobs = await ProcessTestKit.QueryAsync(db,
                "SELECT id, state, node, result IS NOT NULL FROM jobs WHERE id = ANY(@ids)",
                r => (Id: r.GetGuid(0), State: r.GetString(1), Node: r.GetString(2), HasResult: r.GetBoolean(3)), ("ids", ids));
            output.Report($"worker-1 frozen; its {ids.Length} jobs re-ran on worker-2 and all succeeded {recovered.TotalSeconds:0.0} s " +
                          $"after the freeze; after SIGCONT: {string.Join("; ", attempts.Select(a => $"{a.Attempt}:{a.Outcome}@{a.Node}"))}");

            Assert.All(jobs, j =>
            {
                Assert.Equal("succeeded", j.State);
                Assert.Equal("worker-2", j.Node);
                Assert.True(j.HasResult);
            });
            Assert.DoesNotContain(attempts, a => a.Node == "worker-1" && a.Outcome == "succeeded");
            Assert.All(ids, id => Assert.Equal(["lost", "succeeded"], attempts.Where(a => a.Job == id).Select(a => a.Outcome)));
            Assert.Equal(0, await ProcessTestKit.ScalarAsync<long>(db, "SELECT count(*) FROM jobs WHERE state = 'running'"));
            Assert.Contains(frozen.Lines, l => l.Contains("lease was no longer current", StringComparison.Ordinal));
            Assert.False(survivor.HasExited);
        });
    }
}
