using Monolith.Tests.Infrastructure;
using Monolith.Tests.Processes;
using Xunit.Abstractions;

namespace Monolith.Tests.Worker.Engine;

/// <summary>A node with 8 slots and at most 2 jobs of one tenant running at once across the cluster.</summary>
public sealed class TenantCappedFactory : MonolithFactory
{
    public const int Cap = 2;

    protected override Dictionary<string, string?> Settings => new(base.Settings)
    {
        ["WORKER_CONCURRENCY"] = "8",
        ["Worker:TenantConcurrency"] = Cap.ToString(),
    };
}

/// <summary>
/// <c>Worker:TenantConcurrency</c>: however many jobs a tenant queues and however many slots are free, no more than the
/// cap of its jobs run at once across the cluster, while other tenants' jobs run beside them.
/// </summary>
public sealed class TenantConcurrencyTests(TenantCappedFactory app, ITestOutputHelper output) : IClassFixture<TenantCappedFactory>
{
    [Fact]
    public async Task No_more_than_the_cap_of_a_tenants_jobs_run_at_once_across_two_nodes()
    {
        await using var second = new TenantCappedFactory().OnDatabase(app.DatabaseUrl);
        await second.InitializeAsync();
        var a = await app.CreateTenantClientAsync();
        var b = await app.CreateTenantClientAsync();

        // 16 free slots on two nodes; each tenant's 30 jobs of 150 ms would fill them all without the cap.
        var ofA = await a.SubmitJobBatchAsync("sleep", new { ms = 150 }, 30);
        var ofB = await b.SubmitJobBatchAsync("sleep", new { ms = 150 }, 30);
        var all = ofA.Concat(ofB).ToArray();

        // Every sample is one statement, so one consistent view of the table: 'running' counts a job from its claim
        // (buffered jobs included) until its outcome is committed, as the cap does.
        var (mostA, mostB, mostBoth, samples) = (0L, 0L, 0L, 0);
        var nodes = new HashSet<string>();
        await ProcessTestKit.WaitUntilAsync("every job succeeded", TimeSpan.FromSeconds(120), async () =>
            {
                var sample = Assert.Single(await ProcessTestKit.QueryAsync(app.DatabaseUrl, """
                    SELECT count(*) FILTER (WHERE state = 'running' AND id = ANY(@a)),
                           count(*) FILTER (WHERE state = 'running' AND id = ANY(@b)),
                           count(*) FILTER (WHERE state = 'succeeded'),
                           coalesce(string_agg(DISTINCT node, ',') FILTER (WHERE state = 'running'), '')
                    FROM jobs WHERE id = ANY(@all)
                    """,
                    r => (A: r.GetInt64(0), B: r.GetInt64(1), Succeeded: r.GetInt64(2), Nodes: r.GetString(3)),
                    ("a", ofA), ("b", ofB), ("all", all)));
                samples++;
                (mostA, mostB, mostBoth) = (Math.Max(mostA, sample.A), Math.Max(mostB, sample.B), Math.Max(mostBoth, sample.A + sample.B));
                nodes.UnionWith(sample.Nodes.Split(',', StringSplitOptions.RemoveEmptyEntries));
                return sample.Succeeded == all.Length;
            },
            () => Task.FromResult($"most running at once: A {mostA}, B {mostB}"),
            TimeSpan.FromMilliseconds(10));

        output.Report($"{samples} samples: most of tenant A's jobs running at once {mostA}, of B's {mostB}, of both {mostBoth} " +
                      $"(cap {TenantCappedFactory.Cap}, 16 slots); nodes seen running them: {string.Join(", ", nodes.Order())}");
        Assert.Equal(TenantCappedFactory.Cap, mostA); // reached, never passed
        Assert.Equal(TenantCappedFactory.Cap, mostB);

        // And the cap does not stall the backlog: as a place frees up, the tenant's next job is claimed (by the node
        // whose job ended), not at the next unrelated wake-up such as the ticket rescuer's round every 10 s. Each
        // tenant's jobs start about every 75 ms here (2 places, 150 ms jobs); a gap of seconds means a missed claim.
        foreach (var (tenant, ids) in new[] { ("A", ofA), ("B", ofB) })
        {
            var starts = await ProcessTestKit.QueryAsync(app.DatabaseUrl,
                "SELECT DISTINCT started_at FROM job_attempts WHERE job_id = ANY(@ids) ORDER BY 1", r => r.GetDateTime(0), ("ids", ids));
            var gap = starts.Zip(starts.Skip(1), (x, y) => y - x).DefaultIfEmpty().Max();
            output.Report($"tenant {tenant}: {ids.Length} jobs started from {starts[0]:HH:mm:ss.fff} to {starts[^1]:HH:mm:ss.fff}, longest gap between starts {gap.TotalSeconds:0.00} s");
            Assert.True(gap < MaxStartGap, $"tenant {tenant}'s jobs waited {gap.TotalSeconds:0.0} s for a place its cap had free");
        }
    }

    /// <summary>
    /// The longest a capped tenant's next job may wait once a place is free: far above a claim on a loaded machine,
    /// half the ticket rescuer's round (<see cref="Monolith.Worker.Maintenance.TicketRescuer.Interval"/>).
    /// </summary>
    private static readonly TimeSpan MaxStartGap = Monolith.Worker.Maintenance.TicketRescuer.Interval / 2;
}
