using Monolith.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Monolith.Tests.Processes;

/// <summary>
/// A worker node told to stop (SIGTERM, as an orchestrator does) takes no new jobs, lets running ones finish
/// within its grace period, hands the rest back to the cluster, and exits cleanly.
/// </summary>
[Collection("Processes")]
public sealed class WorkerShutdownTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Jobs_still_running_after_the_grace_period_are_handed_back_and_finished_by_the_other_worker()
    {
        await using var group = await ProcessGroup.CreateAsync(nameof(WorkerShutdownTests) + "handback");
        await output.WithLogsOnFailureAsync(group, async () =>
        {
            // worker-2 gets the same short grace, so that either worker can be the one stopped (see below).
            var grace2 = new Dictionary<string, string> { ["Worker__ShutdownGraceSeconds"] = "2" };
            await group.StartAsync(
                new NodeSpec("api", "api-1"),
                new NodeSpec("worker", "worker-1", grace2),
                new NodeSpec("worker", "worker-2", grace2));
            var db = group.DatabaseUrl;
            using var client = group["api-1"].CreateClient();

            var ids = await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
                (await client.SubmitJobAsync("sleep", new { ms = 10_000 })).Id));

            // All four start at once; the one stopped is worker-1 if it runs any, else worker-2 (which then runs all).
            var running = await ProcessTestKit.WaitUntilAllRunningAsync(db, ids);
            var (victim, survivor) = running.GetValueOrDefault("worker-1") > 0 ? ("worker-1", "worker-2") : ("worker-2", "worker-1");
            var handedBack = (await ProcessTestKit.QueryAsync(db,
                "SELECT id FROM jobs WHERE id = ANY(@ids) AND state = 'running' AND node = @node",
                r => r.GetGuid(0), ("ids", ids), ("node", victim))).ToArray();
            output.Report($"running before SIGTERM: {string.Join(", ", running.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}={kv.Value}"))}; " +
                          $"stopping {victim} (grace 2 s)");

            var signalledAt = DateTime.UtcNow;
            await group[victim].SignalAsync(ServiceProcess.SIGTERM);
            var exited = await group[victim].WaitForExitAsync(TimeSpan.FromSeconds(20));
            var exitedAfter = DateTime.UtcNow - signalledAt;
            Assert.True(exited, $"{victim} still runs 20 s after SIGTERM");
            output.Report($"{victim} exited {exitedAfter.TotalSeconds:0.0} s after SIGTERM with exit code {group[victim].ExitCode}");
            Assert.Equal(0, group[victim].ExitCode);

            await ProcessTestKit.WaitAllSucceededAsync(db, ids, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(100));

            var jobs = await ProcessTestKit.QueryAsync(db,
                "SELECT id, state, node, attempt, started_at FROM jobs WHERE id = ANY(@ids)",
                r => (Id: r.GetGuid(0), State: r.GetString(1), Node: r.GetString(2), Attempt: r.GetInt32(3), StartedAt: r.GetDateTime(4)),
                ("ids", ids));
            var attempts = await ProcessTestKit.QueryAsync(db,
                "SELECT job_id, attempt, node, outcome FROM job_attempts WHERE job_id = ANY(@ids) ORDER BY job_id, attempt",
                r => (JobId: r.GetGuid(0), Attempt: r.GetInt32(1), Node: r.GetString(2), Outcome: r.GetString(3)),
                ("ids", ids));
            var restarts = jobs.Where(j => handedBack.Contains(j.Id)).Select(j => (j.StartedAt - signalledAt).TotalSeconds).Order().ToList();
            output.Report($"handed-back jobs ({handedBack.Length}) started again on {survivor} at " +
                          $"{string.Join(", ", restarts.Select(s => $"{s:0.0}"))} s after SIGTERM " +
                          $"(the last {restarts[^1] - exitedAfter.TotalSeconds:0.0} s after {victim} exited)");
            output.Report("attempts: " + string.Join("; ", attempts.GroupBy(a => a.JobId).Select(g =>
                string.Join(" -> ", g.Select(a => $"{a.Attempt}:{a.Outcome}@{a.Node}")))));

            Assert.All(jobs, j => Assert.Equal("succeeded", j.State));
            foreach (var job in jobs.Where(j => handedBack.Contains(j.Id)))
            {
                var history = attempts.Where(a => a.JobId == job.Id).ToList();
                Assert.Equal(survivor, job.Node);
                Assert.Equal(2, job.Attempt);
                Assert.Contains(history, a => a is { Attempt: 1, Outcome: "lost" } && a.Node == victim);
                Assert.Contains(history, a => a is { Attempt: 2, Outcome: "succeeded" } && a.Node == survivor);
                Assert.Equal(2, history.Count);
            }
            foreach (var job in jobs.Where(j => !handedBack.Contains(j.Id)))
            {
                Assert.Equal(survivor, job.Node);
                Assert.Equal(1, job.Attempt);
                Assert.Equal("succeeded", Assert.Single(attempts, a => a.JobId == job.Id).Outcome);
            }
        });
    }

    [Fact]
    public async Task A_job_that_ends_within_the_grace_period_finishes_on_the_stopping_worker()
    {
        await using var group = await ProcessGroup.CreateAsync(nameof(WorkerShutdownTests) + "graceful");
        await output.WithLogsOnFailureAsync(group, async () =>
        {
            // One worker only, so the job surely runs there.
            await group.StartAsync(
                new NodeSpec("api", "api-1"),
                new NodeSpec("worker", "worker-1", new Dictionary<string, string> { ["Worker__ShutdownGraceSeconds"] = "10" }));
            var db = group.DatabaseUrl;
            using var client = group["api-1"].CreateClient();

            var id = (await client.SubmitJobAsync("sleep", new { ms = 1500 })).Id;
            await ProcessTestKit.WaitUntilAsync("the job is running", TimeSpan.FromSeconds(30),
                async () => await ProcessTestKit.ScalarAsync<string>(db, "SELECT state FROM jobs WHERE id = @id", ("id", id)) == "running",
                async () => await ProcessTestKit.ScalarAsync<string>(db, "SELECT state FROM jobs WHERE id = @id", ("id", id)),
                TimeSpan.FromMilliseconds(10));

            var signalledAt = DateTime.UtcNow;
            await group["worker-1"].SignalAsync(ServiceProcess.SIGTERM);
            var exited = await group["worker-1"].WaitForExitAsync(TimeSpan.FromSeconds(20));
            var exitedAfter = DateTime.UtcNow - signalledAt;
            Assert.True(exited, "worker-1 still runs 20 s after SIGTERM");

            var job = (await ProcessTestKit.QueryAsync(db,
                "SELECT state, node, attempt, started_at, finished_at FROM jobs WHERE id = @id",
                r => (State: r.GetString(0), Node: r.GetString(1), Attempt: r.GetInt32(2), StartedAt: r.GetDateTime(3),
                      FinishedAt: r.IsDBNull(4) ? (DateTime?)null : r.GetDateTime(4)),
                ("id", id))).Single();
            var attempts = await ProcessTestKit.QueryAsync(db,
                "SELECT attempt, node, outcome FROM job_attempts WHERE job_id = @id ORDER BY attempt",
                r => (Attempt: r.GetInt32(0), Node: r.GetString(1), Outcome: r.GetString(2)), ("id", id));
            output.Report($"SIGTERM {(signalledAt - job.StartedAt).TotalSeconds:0.00} s into the 1.5 s job; worker-1 exited " +
                          $"{exitedAfter.TotalSeconds:0.0} s later with exit code {group["worker-1"].ExitCode}; the job is {job.State} " +
                          $"(finished {(job.FinishedAt is { } f ? $"{(f - signalledAt).TotalSeconds:0.00} s after SIGTERM" : "never")}), " +
                          $"attempts: {string.Join(" -> ", attempts.Select(a => $"{a.Attempt}:{a.Outcome}@{a.Node}"))}");

            Assert.Equal(0, group["worker-1"].ExitCode);
            Assert.Equal("succeeded", job.State);
            Assert.Equal("worker-1", job.Node);
            Assert.Equal(1, job.Attempt);
            var attempt = Assert.Single(attempts);
            Assert.Equal(("worker-1", "succeeded"), (attempt.Node, attempt.Outcome));
        });
    }
}
