using Monolith.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Monolith.Tests.Processes;

/// <summary>
/// A worker node dies (SIGKILL) in the middle of its jobs: the cluster notices it missed its check-ins and the
/// other worker runs those jobs again, recording the lost attempt; no job is lost or left running.
/// </summary>
[Collection("Processes")]
public sealed class WorkerCrashTests(ITestOutputHelper output)
{
    private static readonly Dictionary<string, string> Concurrency8 = new() { ["WORKER_CONCURRENCY"] = "8" };

    [Fact]
    public async Task Jobs_of_a_killed_worker_are_recovered_and_finished_by_the_other_worker()
    {
        await using var group = await ProcessGroup.CreateAsync(nameof(WorkerCrashTests));
        await output.WithLogsOnFailureAsync(group, async () =>
        {
            await group.StartAsync(
                new NodeSpec("api", "api-1"),
                new NodeSpec("worker", "worker-1", Concurrency8),
                new NodeSpec("worker", "worker-2", Concurrency8));
            var db = group.DatabaseUrl;
            using var client = group["api-1"].CreateClient();

            var ids = await Task.WhenAll(Enumerable.Range(0, 10).Select(async _ =>
                (await client.SubmitJobAsync("sleep", new { ms = 8000 }, new { maxAttempts = 3 })).Id));

            // All ten start at once (16 slots); which worker takes how many is up to the cluster. The victim is
            // worker-1 when it runs at least 4, else worker-2 (which then runs at least 7), so the test never
            // depends on how the tickets happened to be shared out.
            var running = await ProcessTestKit.WaitUntilAllRunningAsync(db, ids);
            var (victim, survivor) = running.GetValueOrDefault("worker-1") >= 4 ? ("worker-1", "worker-2") : ("worker-2", "worker-1");
            output.Report($"running before the kill: {string.Join(", ", running.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}={kv.Value}"))}; killing {victim}");

            var killedAt = DateTime.UtcNow;
            group[victim].Kill();
            Assert.True(await group[victim].WaitForExitAsync(TimeSpan.FromSeconds(10)), $"{victim} did not die");

            // Nothing commits on the dead node any more: its jobs are the rows it left running.
            var lostIds = (await ProcessTestKit.QueryAsync(db,
                "SELECT id FROM jobs WHERE id = ANY(@ids) AND state = 'running' AND node = @node",
                r => r.GetGuid(0), ("ids", ids), ("node", victim))).ToArray();
            Assert.True(lostIds.Length >= 4, $"{victim} ran only {lostIds.Length} job(s) when killed");

            await ProcessTestKit.WaitAllSucceededAsync(db, ids, TimeSpan.FromSeconds(90), TimeSpan.FromMilliseconds(100));
            var allSucceededAfter = DateTime.UtcNow - killedAt;

            var jobs = await ProcessTestKit.QueryAsync(db,
                "SELECT id, state, node, attempt, started_at, finished_at FROM jobs WHERE id = ANY(@ids)",
                r => (Id: r.GetGuid(0), State: r.GetString(1), Node: r.GetString(2), Attempt: r.GetInt32(3),
                      StartedAt: r.GetDateTime(4), FinishedAt: r.GetDateTime(5)),
                ("ids", ids));
            var attempts = await ProcessTestKit.QueryAsync(db,
                "SELECT job_id, attempt, node, outcome FROM job_attempts WHERE job_id = ANY(@ids) ORDER BY job_id, attempt",
                r => (JobId: r.GetGuid(0), Attempt: r.GetInt32(1), Node: r.GetString(2), Outcome: r.GetString(3)),
                ("ids", ids));

            var recovered = jobs.Where(j => lostIds.Contains(j.Id)).ToList();
            var restarts = recovered.Select(j => (j.StartedAt - killedAt).TotalSeconds).Order().ToList();
            output.Report($"recovery took {restarts[^1]:0.0} s: from the kill of {victim} until the last of its {lostIds.Length} jobs " +
                          $"started again on {survivor} (first restart after {restarts[0]:0.0} s; restarts at " +
                          $"{string.Join(", ", restarts.Select(s => $"{s:0.0}"))} s)");
            output.Report($"all 10 jobs succeeded {(jobs.Max(j => j.FinishedAt) - killedAt).TotalSeconds:0.0} s after the kill " +
                          $"(last finished_at; the test saw it after {allSucceededAfter.TotalSeconds:0.0} s)");
            output.Report("attempts: " + string.Join("; ", attempts.GroupBy(a => a.JobId).Select(g =>
                string.Join(" -> ", g.Select(a => $"{a.Attempt}:{a.Outcome}@{a.Node}")))));

            Assert.All(jobs, j => Assert.Equal("succeeded", j.State));
            foreach (var job in recovered)
            {
                var history = attempts.Where(a => a.JobId == job.Id).ToList();
                Assert.Equal(survivor, job.Node);
                Assert.Equal(2, job.Attempt);
                Assert.Contains(history, a => a is { Attempt: 1, Outcome: "lost" } && a.Node == victim);
                Assert.Contains(history, a => a is { Attempt: 2, Outcome: "succeeded" } && a.Node == survivor);
                Assert.Equal(2, history.Count);
            }
            foreach (var job in jobs.Where(j => !lostIds.Contains(j.Id)))
            {
                var history = attempts.Where(a => a.JobId == job.Id).ToList();
                Assert.Equal(survivor, job.Node);
                Assert.Equal(1, job.Attempt);
                Assert.Equal("succeeded", Assert.Single(history).Outcome);
            }
        });
    }
}
