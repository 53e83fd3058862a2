using System.Collections.Concurrent;
using System.Diagnostics;
using Monolith.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Monolith.Tests.Processes;

[Collection("Processes")]
public sealed class RollingDeployTests(ITestOutputHelper output)
{
    private const int Jobs = 5000; // as issue 3 asks
    private static readonly Dictionary<string, string> FastShutdown = new() { ["Worker__ShutdownGraceSeconds"] = "2" };

    [Fact]
    public async Task WorkersStoppedAndRestartedOneByOne_WhileJobsRun_EveryJobSucceedsOnce()
    {
        await using var group = await ProcessGroup.CreateAsync("rolling");
        await group.StartAsync(
            new NodeSpec("api", "api-1"),
            new NodeSpec("worker", "worker-1", FastShutdown),
            new NodeSpec("worker", "worker-2", FastShutdown));
        var db = group.DatabaseUrl;
        await output.WithLogsOnFailureAsync(group, async () =>
        {
            using var client = group["api-1"].CreateClient();
            var accepted = new ConcurrentBag<Guid>();
            var next = -1;
            var clock = Stopwatch.StartNew();
            async Task SubmitLoopAsync()
            {
                while (Interlocked.Increment(ref next) < Jobs)
                {
                    accepted.Add((await client.SubmitJobAsync("sleep", new { ms = 50 })).Id);
                }
            }
            var submitters = Enumerable.Range(0, 16).Select(_ => Task.Run(SubmitLoopAsync)).ToArray();

            var deploys = new List<string>();
            foreach (var name in new[] { "worker-1", "worker-2" })
            {
                await ProcessTestKit.WaitUntilAsync($"{Jobs / 4} more jobs accepted", TimeSpan.FromSeconds(120),
                    () => Task.FromResult(accepted.Count >= Jobs / 4 * (deploys.Count + 1)), () => Task.FromResult($"{accepted.Count} accepted"));
                var old = group[name];
                var stoppedAt = clock.Elapsed;
                await old.SignalAsync(ServiceProcess.SIGTERM);
                Assert.True(await old.WaitForExitAsync(TimeSpan.FromSeconds(30)), $"{name} did not exit after SIGTERM");
                Assert.Equal(0, old.ExitCode);
                await group.RemoveAsync(old);
                await group.StartAsync(new NodeSpec("worker", name, FastShutdown));
                deploys.Add($"{name} stopped at {stoppedAt.TotalSeconds:0.0} s, back at {clock.Elapsed.TotalSeconds:0.0} s");
            }
            await Task.WhenAll(submitters);

            var ids = accepted.ToArray();
            var drained = await ProcessTestKit.WaitAllSucceededAsync(db, ids, TimeSpan.FromSeconds(240));
            var succeededTwice = await ProcessTestKit.ScalarAsync<long>(db, """
                SELECT count(*) FROM (SELECT job_id FROM job_attempts WHERE outcome = 'succeeded' AND job_id = ANY(@ids)
                                      GROUP BY job_id HAVING count(*) > 1) twice
                """, ("ids", ids));
            var handedBack = await ProcessTestKit.ScalarAsync<long>(db,
                "SELECT count(DISTINCT job_id) FROM job_attempts WHERE outcome = 'lost' AND job_id = ANY(@ids)", ("ids", ids));
            output.Report($"rolling deploy: {string.Join("; ", deploys)}; {ids.Length} jobs all succeeded " +
                          $"{clock.Elapsed.TotalSeconds:0.0} s after the first submit; {handedBack} handed back and re-run, none succeeded twice");

            Assert.Equal(Jobs, ids.Length);
            Assert.Equal(0, succeededTwice);
        });
    }
}
