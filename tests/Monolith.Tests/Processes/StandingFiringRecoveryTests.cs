using Monolith.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Monolith.Tests.Processes;

/// <summary>
/// A worker node's jobs live under its standing dispatch firing (docs/engine.md): the ones running in its slots and the
/// ones claimed ahead into its local buffer. When the node dies, Quartz's recovery of that firing takes every one of
/// them back, on a peer or on the node itself when it restarts under the same <c>INSTANCE_ID</c>.
/// </summary>
[Collection("Processes")]
public sealed class StandingFiringRecoveryTests(ITestOutputHelper output)
{
    private const int Slots = 2;

    /// <summary>
    /// Two slots and a large prefetch allowance, so behind 100 ms jobs a node claims about ten ahead of its slots
    /// (<c>Worker__PrefetchMilliseconds</c>: slots × 1,000 ms / mean attempt time).
    /// </summary>
    private static readonly Dictionary<string, string> SmallNodeWithBuffer = new()
    {
        ["WORKER_CONCURRENCY"] = Slots.ToString(),
        ["Worker__PrefetchMilliseconds"] = "1000",
    };

    /// <summary>
    /// The recovery bound (docs/engine.md: about 10 s, check-in 2 s + threshold 5 s + the peer's tick) with room for a
    /// loaded machine: the figure itself is printed.
    /// </summary>
    private static readonly TimeSpan RecoveryBound = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_node_killed_with_running_and_buffered_jobs_loses_none_of_them()
    {
        await using var group = await ProcessGroup.CreateAsync(nameof(StandingFiringRecoveryTests));
        await output.WithLogsOnFailureAsync(group, async () =>
        {
            await group.StartAsync(
                new NodeSpec("api", "api-1"),
                new NodeSpec("worker", "worker-1", SmallNodeWithBuffer),
                new NodeSpec("worker", "worker-2", SmallNodeWithBuffer));
            var db = group.DatabaseUrl;
            using var client = group["api-1"].CreateClient();

            // 4 slots in all, 100 ms each: about 5 s of work, so both nodes hold a buffer for a while.
            var ids = await client.SubmitJobBatchAsync("sleep", new { ms = 100 }, 200, new { maxAttempts = 3 });

            // The victim: the first node seen holding more jobs than it has slots, i.e. some of them buffered.
            var held = new Dictionary<string, long>();
            await ProcessTestKit.WaitUntilAsync($"a worker holds more than {Slots + 2} jobs 'running' (its {Slots} slots and a buffer)",
                TimeSpan.FromSeconds(60),
                async () => (held = await ProcessTestKit.RunningPerNodeAsync(db, ids)).Values.Any(n => n > Slots + 2),
                async () => ProcessTestKit.Describe(await ProcessTestKit.CountStatesAsync(db, ids)),
                TimeSpan.FromMilliseconds(20));
            var victim = held.MaxBy(kv => kv.Value).Key;
            var survivor = victim == "worker-1" ? "worker-2" : "worker-1";

            var killedAt = DateTime.UtcNow;
            group[victim].Kill();
            Assert.True(await group[victim].WaitForExitAsync(TimeSpan.FromSeconds(10)), $"{victim} did not die");

            // Nothing commits on the dead node any more: what it held is what it left 'running'.
            var lost = (await ProcessTestKit.QueryAsync(db,
                "SELECT id FROM jobs WHERE id = ANY(@ids) AND state = 'running' AND node = @node",
                r => r.GetGuid(0), ("ids", ids), ("node", victim))).ToArray();
            output.Report($"{victim} held {held[victim]} job(s) when last sampled and {lost.Length} when killed, on {Slots} slots; " +
                          $"running per node before the kill: {string.Join(", ", held.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}={kv.Value}"))}");
            Assert.True(lost.Length > Slots + 2, $"{victim} held only {lost.Length} job(s) on {Slots} slots when killed: too few were in its buffer");

            await ProcessTestKit.WaitAllSucceededAsync(db, ids, TimeSpan.FromSeconds(120), TimeSpan.FromMilliseconds(100));

            var attempts = await ProcessTestKit.AttemptsAsync(db, ids);
            var byJob = attempts.ToLookup(a => a.JobId);
            ProcessTestKit.AssertEachSucceededOnceWithoutOverlap(attempts, ids);
            foreach (var id in lost)
            {
                var history = byJob[id].ToList();
                Assert.True(history is [{ Outcome: "lost" }, { Outcome: "succeeded" }] && history[0].Node == victim && history[1].Node == survivor,
                    $"job {id}, held by {victim} when it was killed: {ProcessTestKit.Describe(history)}");
            }
            Assert.All(ids.Except(lost), id => Assert.Equal("succeeded", Assert.Single(byJob[id]).Outcome));

            // Taken back within the recovery bound: the recovered attempt starts when the survivor reclaims the job.
            var retaken = lost.Select(id => byJob[id].Last().StartedAt - killedAt).Order().ToList();
            var finished = lost.Select(id => byJob[id].Last().FinishedAt - killedAt).Max();
            output.Report($"{survivor} took back all {lost.Length} job(s) of {victim} {retaken[^1].TotalSeconds:0.0} s after the kill " +
                          $"(first {retaken[0].TotalSeconds:0.0} s) and finished them {finished.TotalSeconds:0.0} s after it");
            Assert.True(retaken[^1] <= RecoveryBound, $"the jobs of {victim} were taken back only {retaken[^1].TotalSeconds:0.0} s after the kill");
        });
    }

    [Fact]
    public async Task A_node_restarted_under_the_same_instance_id_recovers_its_jobs_and_gets_its_standing_firing_back()
    {
        await using var group = await ProcessGroup.CreateAsync(nameof(StandingFiringRecoveryTests));
        await output.WithLogsOnFailureAsync(group, async () =>
        {
            var worker = new NodeSpec("worker", "worker-1", new Dictionary<string, string> { ["WORKER_CONCURRENCY"] = Slots.ToString() });
            await group.StartAsync(new NodeSpec("api", "api-1"), worker);
            var db = group.DatabaseUrl;
            using var client = group["api-1"].CreateClient();

            var before = await WaitForOneStandingFiringAsync(db, "worker-1");

            // Two run (two slots), two wait; the only worker is then killed and started again under the same id, so
            // nothing but the restarted node itself can recover the firing its jobs are under.
            var ids = await client.SubmitJobBatchAsync("sleep", new { ms = 3000 }, 4, new { maxAttempts = 3 });
            await ProcessTestKit.WaitUntilAsync($"{Slots} jobs run on worker-1", TimeSpan.FromSeconds(30),
                async () => (await ProcessTestKit.RunningPerNodeAsync(db, ids)).GetValueOrDefault("worker-1") == Slots,
                async () => ProcessTestKit.Describe(await ProcessTestKit.CountStatesAsync(db, ids)));

            group["worker-1"].Kill();
            Assert.True(await group["worker-1"].WaitForExitAsync(TimeSpan.FromSeconds(10)), "worker-1 did not die");
            var killedAt = DateTime.UtcNow;
            var lost = (await ProcessTestKit.QueryAsync(db,
                "SELECT id FROM jobs WHERE id = ANY(@ids) AND state = 'running' AND node = 'worker-1'",
                r => r.GetGuid(0), ("ids", ids))).ToArray();
            Assert.Equal(Slots, lost.Length);

            await group.RemoveAsync(group["worker-1"]);
            var restarted = (await group.StartAsync(worker))[0];
            var readyAfter = DateTime.UtcNow - killedAt;

            await ProcessTestKit.WaitAllSucceededAsync(db, ids, TimeSpan.FromSeconds(60));
            var attempts = await ProcessTestKit.AttemptsAsync(db, ids);
            var byJob = attempts.ToLookup(a => a.JobId);
            output.Report($"worker-1 was ready again {readyAfter.TotalSeconds:0.0} s after the kill; attempts: " +
                          string.Join("; ", ids.Select(id => ProcessTestKit.Describe(byJob[id]))));
            ProcessTestKit.AssertEachSucceededOnceWithoutOverlap(attempts, ids);
            Assert.All(lost, id => Assert.Equal(["lost@worker-1", "succeeded@worker-1"], byJob[id].Select(a => $"{a.Outcome}@{a.Node}")));
            Assert.All(ids.Except(lost), id => Assert.Equal(["succeeded@worker-1"], byJob[id].Select(a => $"{a.Outcome}@{a.Node}")));
            Assert.Contains(restarted.Lines, l => l.Contains($"Took back {Slots} job(s) of dispatch firing", StringComparison.Ordinal));

            // Its standing firing is back: a new one, fired in Quartz's start-up group and pinned to it, and it takes
            // new work as it comes (each job's start is its claim).
            var after = await WaitForOneStandingFiringAsync(db, "worker-1");
            Assert.NotEqual(before.TriggerName, after.TriggerName);
            for (var i = 0; i < 3; i++)
            {
                var job = await client.SubmitJobAsync("noop", new { });
                var done = await client.WaitForStateAsync(job.Id, "succeeded", TimeSpan.FromSeconds(30));
                Assert.Equal("worker-1", Assert.Single(done.Attempts).Node);
            }
            output.Report($"standing firing before the kill: {before.TriggerName}; after the restart: {after.TriggerName}; " +
                          $"3 new jobs ran on worker-1");
        });
    }

    /// <summary>Waits until Quartz holds exactly one standing firing running on <paramref name="node"/> (it fires just after start).</summary>
    private static async Task<(string EntryId, string TriggerName)> WaitForOneStandingFiringAsync(string db, string node)
    {
        List<(string EntryId, string TriggerName)> firings = [];
        await ProcessTestKit.WaitUntilAsync($"Quartz runs one standing dispatch firing on {node}", TimeSpan.FromSeconds(30),
            async () => (firings = await ProcessTestKit.StandingFiringsAsync(db, node)).Count == 1,
            () => Task.FromResult($"{firings.Count} firing(s): {string.Join(", ", firings.Select(f => f.TriggerName))}"));
        return firings[0];
    }
}
