using Monolith.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Monolith.Tests.Processes;

/// <summary>
/// Two worker nodes never run the same job at once, even when one is frozen (SIGSTOP) past the check-in bound while
/// it holds jobs: Quartz recovers its standing firing on the other node, and when the frozen node wakes (SIGCONT) the
/// claim fence (<c>monolith_claim</c>, SQLSTATE MN001) keeps it from claiming anything more under that firing; it
/// schedules itself a new standing firing and takes work again under that one.
/// </summary>
[Collection("Processes")]
public sealed class StandingFiringFenceTests(ITestOutputHelper output)
{
    /// <summary>Four slots, and a prefetch allowance that gives each node a buffer of about ten jobs behind 100 ms sleeps.</summary>
    private static readonly Dictionary<string, string> Worker = new()
    {
        ["WORKER_CONCURRENCY"] = "4",
        ["Worker__PrefetchMilliseconds"] = "300",
    };

    [Fact]
    public async Task Two_nodes_never_run_the_same_job_at_once_and_a_frozen_node_claims_nothing_under_its_recovered_firing()
    {
        await using var group = await ProcessGroup.CreateAsync(nameof(StandingFiringFenceTests));
        await output.WithLogsOnFailureAsync(group, async () =>
        {
            await group.StartAsync(
                new NodeSpec("api", "api-1"),
                new NodeSpec("worker", "worker-1", Worker),
                new NodeSpec("worker", "worker-2", Worker));
            var db = group.DatabaseUrl;
            using var client = group["api-1"].CreateClient();
            var frozen = group["worker-1"];

            // 8 slots, 100 ms each: some 5 s of work, shared by both nodes.
            var first = await client.SubmitJobBatchAsync("sleep", new { ms = 100 }, 400, new { maxAttempts = 5 });
            List<(Guid Id, Guid Firing)> held;
            DateTime stoppedAt;
            TimeSpan recovered;
            for (var freeze = 1; ; freeze++)
            {
                await ProcessTestKit.WaitUntilAsync("worker-1 runs some of the jobs", TimeSpan.FromSeconds(30),
                    async () => (await ProcessTestKit.RunningPerNodeAsync(db, first)).GetValueOrDefault("worker-1") >= 2,
                    async () => ProcessTestKit.Describe(await ProcessTestKit.CountStatesAsync(db, first)),
                    TimeSpan.FromMilliseconds(20));

                await frozen.SignalAsync(ServiceProcess.SIGSTOP);
                stoppedAt = DateTime.UtcNow;
                // The firing the frozen node claims under (jobs.ticket_id): its standing firing.
                held = await ProcessTestKit.QueryAsync(db,
                    "SELECT id, ticket_id FROM jobs WHERE state = 'running' AND node = 'worker-1'",
                    r => (Id: r.GetGuid(0), Firing: r.GetGuid(1)));

                // Past the check-in bound: Quartz took worker-1 for dead and recovered its standing firing on worker-2, whose
                // row in qrtz_fired_triggers (the claim fence) is then gone; the recovered firing takes the jobs back.
                // Unless the node froze inside a transaction: then it holds that transaction's locks until it resumes (the
                // database cannot tell a frozen client from a slow one), and if one is Quartz's TRIGGER_ACCESS row, no node
                // recovers anything meanwhile. That is not what this test is about: it is seen long before the check-in
                // bound (no healthy transaction idles for seconds), and the node is resumed and frozen again.
                var inTransaction = "";
                recovered = await ProcessTestKit.WaitUntilAsync("Quartz recovered the frozen node's standing firing", TimeSpan.FromSeconds(60),
                    async () =>
                    {
                        if ((await ProcessTestKit.StandingFiringsAsync(db, "worker-1")).Count == 0) return true;
                        inTransaction = string.Join("; ", await ProcessTestKit.QueryAsync(db, """
                            SELECT left(regexp_replace(query, '\s+', ' ', 'g'), 160) FROM pg_stat_activity
                            WHERE datname = current_database() AND state = 'idle in transaction' AND now() - state_change > interval '2 seconds'
                            """, r => r.GetString(0)));
                        return inTransaction.Length > 0;
                    },
                    async () => $"{ProcessTestKit.Describe(await ProcessTestKit.CountStatesAsync(db, first))}; open transactions: " +
                                await ProcessTestKit.OpenTransactionsAsync(db));
                if (inTransaction.Length == 0) break;
                Assert.True(freeze < 3, $"worker-1 froze inside a transaction {freeze} times in a row (last: {inTransaction})");
                output.Report($"freeze {freeze}: worker-1 froze inside a transaction ({inTransaction}); resumed to freeze it again");
                await frozen.SignalAsync(ServiceProcess.SIGCONT);
            }
            var frozenFiring = Assert.Single(held.Select(h => h.Firing).Distinct());
            output.Report($"worker-1 frozen holding {held.Count} job(s) under firing {frozenFiring}; recovered after {recovered.TotalSeconds:0.0} s");

            // Work for both nodes after the wake-up: the frozen node's queued wake-ups arrive when it resumes.
            var second = await client.SubmitJobBatchAsync("sleep", new { ms = 100 }, 160, new { maxAttempts = 5 });
            var ids = first.Concat(second).ToArray();
            await frozen.SignalAsync(ServiceProcess.SIGCONT);
            var resumedAt = DateTime.UtcNow;

            // Every job worker-1 claims from here on must be under a new firing; it must take work again; and all finish.
            var firingsAfter = new HashSet<Guid>();
            await ProcessTestKit.WaitUntilAsync("every job succeeded and worker-1 ran some after it resumed", TimeSpan.FromSeconds(120),
                async () =>
                {
                    foreach (var firing in await ProcessTestKit.QueryAsync(db,
                                 "SELECT DISTINCT ticket_id FROM jobs WHERE state = 'running' AND node = 'worker-1' AND started_at > @resumed",
                                 r => r.GetGuid(0), ("resumed", resumedAt)))
                    {
                        firingsAfter.Add(firing);
                    }
                    var done = await ProcessTestKit.QueryAsync(db, """
                        SELECT count(*) FILTER (WHERE state = 'succeeded'),
                               (SELECT count(*) FROM job_attempts a
                                WHERE a.job_id = ANY(@ids) AND a.node = 'worker-1' AND a.outcome = 'succeeded' AND a.started_at > @resumed)
                        FROM jobs WHERE id = ANY(@ids)
                        """, r => (Succeeded: r.GetInt64(0), ByResumed: r.GetInt64(1)), ("ids", ids), ("resumed", resumedAt));
                    return done[0].Succeeded == ids.Length && done[0].ByResumed > 0;
                },
                async () => ProcessTestKit.Describe(await ProcessTestKit.CountStatesAsync(db, ids)),
                TimeSpan.FromMilliseconds(25));

            var attempts = await ProcessTestKit.AttemptsAsync(db, ids);
            var perNode = attempts.Where(a => a.Outcome == "succeeded").GroupBy(a => a.Node).OrderBy(g => g.Key)
                .Select(g => $"{g.Key}={g.Count()}");
            var afterResume = attempts.Count(a => a is { Node: "worker-1", Outcome: "succeeded" } && a.StartedAt > resumedAt);
            output.Report($"{ids.Length} jobs succeeded ({string.Join(", ", perNode)}); worker-1 ran {afterResume} after it resumed, " +
                          $"under firing(s) {string.Join(", ", firingsAfter)}; lost attempts: {attempts.Count(a => a.Outcome == "lost")}");

            ProcessTestKit.AssertEachSucceededOnceWithoutOverlap(attempts, ids);
            // Each job the frozen node held was taken back from it (or, had it frozen while committing the job's outcome, that
            // outcome stood: the job then ran once, before the freeze).
            Assert.All(held, h => Assert.Contains(attempts, a => a.JobId == h.Id && a.Node == "worker-1"
                && (a.Outcome == "lost" || (a.Outcome == "succeeded" && a.StartedAt < stoppedAt))));
            Assert.DoesNotContain(attempts, a => a is { Node: "worker-1", Outcome: "succeeded" } && a.StartedAt > stoppedAt && a.StartedAt < resumedAt);

            // The fence: nothing claimed under the recovered firing after the wake-up; a new standing firing instead.
            Assert.DoesNotContain(frozenFiring, firingsAfter);
            Assert.NotEmpty(firingsAfter);
            Assert.Contains(frozen.Lines, l => l.Contains("standing dispatch firing elsewhere (the node was taken for dead): it claims nothing more", StringComparison.Ordinal));
            Assert.Contains(frozen.Lines, l => l.Contains("Scheduled a new standing dispatch firing for this node", StringComparison.Ordinal));
            Assert.Single(await ProcessTestKit.StandingFiringsAsync(db, "worker-1"));
            Assert.Equal(0, await ProcessTestKit.ScalarAsync<long>(db, "SELECT count(*) FROM jobs WHERE state = 'running'"));
        });
    }
}
