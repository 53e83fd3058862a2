using Monolith.Tests.Infrastructure;
using Monolith.Tests.Processes;
using Xunit.Abstractions;

namespace Monolith.Tests.Worker.Engine;

/// <summary>A node with 4 slots and a buffer of at most 16 jobs claimed ahead of them; no tenant cap.</summary>
public sealed class FairShareFactory : MonolithFactory
{
    public const int Slots = 4;
    public const int MaxPrefetch = 16;

    protected override Dictionary<string, string?> Settings => new(base.Settings)
    {
        ["WORKER_CONCURRENCY"] = Slots.ToString(),
        ["Worker:MaxPrefetch"] = MaxPrefetch.ToString(),
    };
}

/// <summary>
/// Tenants take turns in every claim (<c>monolith_claim</c>, docs/engine.md): one tenant's backlog does not hold back
/// another tenant's job of the same queue and priority until the backlog is done.
/// </summary>
public sealed class FairShareTests(FairShareFactory app, ITestOutputHelper output) : IClassFixture<FairShareFactory>
{
    /// <summary>
    /// How many of A's jobs still waiting once B's job was stored may start before it: a claim already under way then
    /// (at most the node's slots and buffer, 20) and a few claims of a single place that went to A by the turn of the
    /// draw, with room to spare. Oldest-first, every one of A's waiting jobs would start before B's.
    /// </summary>
    private const int MostAhead = 100;

    [Fact]
    public async Task A_tenants_single_job_starts_before_another_tenants_backlog_is_done()
    {
        var a = await app.CreateTenantClientAsync();
        var b = await app.CreateTenantClientAsync();

        // 2,000 jobs of 10 ms on 4 slots: at least 2.5 s of work for each batch of 1,000, so most of the second batch
        // still waits when B submits right after it, however fast the machine.
        var backlog = await a.SubmitJobBatchAsync("sleep", new { ms = 10 }, 2000);
        var single = await b.SubmitJobAsync("noop", new { });
        // B's job is stored by now (the 202 follows the commit), so from here every claim can see it. The same clock as
        // the database's: one host.
        var accepted = DateTime.UtcNow;
        await b.WaitForStateAsync(single.Id, "succeeded", TimeSpan.FromSeconds(120));

        var counts = Assert.Single(await ProcessTestKit.QueryAsync(app.DatabaseUrl, """
            WITH b AS (SELECT created_at, started_at FROM jobs WHERE id = @single)
            SELECT count(*) FILTER (WHERE a.started_at IS NULL OR a.started_at > @accepted),
                   count(*) FILTER (WHERE a.started_at > @accepted AND a.started_at < b.started_at),
                   count(*) FILTER (WHERE a.started_at IS NULL OR a.started_at > b.started_at),
                   max(extract(epoch FROM b.started_at - b.created_at) * 1000)::float8
            FROM jobs a, b WHERE a.id = ANY(@backlog)
            """,
            r => (Waiting: r.GetInt64(0), Ahead: r.GetInt64(1), Behind: r.GetInt64(2), StartedAfterMs: r.GetDouble(3)),
            ("single", single.Id), ("backlog", backlog), ("accepted", accepted)));
        var message = $"of tenant A's {backlog.Length} jobs, {counts.Waiting} had not started when tenant B's job was accepted; " +
                      $"{counts.Ahead} of them started before B's and {counts.Behind} after it; B's job started " +
                      $"{counts.StartedAfterMs:0} ms after its submit";
        output.Report(message);

        // The test tells fair from oldest-first only if A's backlog was still there when B submitted.
        Assert.True(counts.Waiting >= 500, "A's backlog was nearly done before B submitted: " + message);
        Assert.True(counts.Ahead <= MostAhead, message);
        Assert.True(counts.Behind >= counts.Waiting - MostAhead, message);
    }
}
