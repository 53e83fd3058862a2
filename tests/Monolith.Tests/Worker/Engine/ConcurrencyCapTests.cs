using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Domain.Jobs;
using Monolith.Domain.Tenants;
using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Worker.Engine;

/// <summary>A node with 8 slots, sleep jobs capped at 2 across the cluster and the low queue at 1.</summary>
public sealed class CappedFactory : MonolithFactory
{
    protected override Dictionary<string, string?> Settings => new(base.Settings)
    {
        ["WORKER_CONCURRENCY"] = "8",
        ["Worker:TypeConcurrency:sleep"] = "2",
        ["Worker:QueueConcurrency:low"] = "1",
    };
}

public sealed class ConcurrencyCapTests(CappedFactory app) : IClassFixture<CappedFactory>
{
    [Fact]
    public async Task TypeCap_HoldsAcrossTwoNodes_AndOtherTypesRunBeside()
    {
        await using var second = new CappedFactory().OnDatabase(app.DatabaseUrl);
        await second.InitializeAsync();
        var client = await app.CreateTenantClientAsync();

        var sleeps = new List<Guid>();
        for (var i = 0; i < 10; i++) sleeps.Add((await client.SubmitJobAsync("sleep", new { ms = 1000 })).Id);
        var noops = new List<Guid>();
        for (var i = 0; i < 10; i++) noops.Add((await client.SubmitJobAsync("noop", new { })).Id);

        var (most, _) = await SampleRunningAsync("sleep", null, sleeps, TimeSpan.FromSeconds(90));

        Assert.Equal(2, most); // reached, never passed
        foreach (var id in noops) await client.WaitForStateAsync(id, "succeeded", TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task QueueCap_RunsOneLowJobAtATime()
    {
        var client = await app.CreateTenantClientAsync();
        var jobs = new List<Guid>();
        for (var i = 0; i < 4; i++) jobs.Add((await client.SubmitJobAsync("noop", new { }, new { queue = "low" })).Id);
        for (var i = 0; i < 3; i++) jobs.Add((await client.SubmitJobAsync("fail", new { failTimes = 0 }, new { queue = "low" })).Id);
        var slow = new List<Guid>();
        for (var i = 0; i < 3; i++) slow.Add((await client.SubmitJobAsync("sleep", new { ms = 700 }, new { queue = "low" })).Id);

        var (most, _) = await SampleRunningAsync(null, "low", jobs.Concat(slow).ToList(), TimeSpan.FromSeconds(60));

        Assert.Equal(1, most);
    }

    [Fact]
    public async Task Claims_FromTwoNodesAtOnce_TakeNoMoreThanTheCapTogether()
    {
        // Jobs of a queue no node here works on and of a kind no node caps, so only these claims take them and they
        // hold no place the other tests need.
        var ids = new List<Guid>();
        await using (var db = app.CreateDbContext())
        {
            var now = DateTimeOffset.UtcNow;
            for (var i = 0; i < 10; i++)
            {
                var job = new Job
                {
                    Id = Guid.CreateVersion7(), TenantId = Tenant.AdminTenantId, Type = "capped_kind", Queue = "capped-0", State = JobState.Queued,
                    Payload = "{}", MaxAttempts = 1, CreatedAt = now, ScheduledAt = now,
                };
                db.Jobs.Add(job);
                ids.Add(job.Id);
            }
            await db.SaveChangesAsync();
        }
        var caps = new ClaimCaps(new Dictionary<string, int>(), new Dictionary<string, int> { ["capped_kind"] = 2 });

        async Task<List<Job>> ClaimAsync(string node)
        {
            await using var scope = app.Services.CreateAsyncScope();
            var store = scope.ServiceProvider.GetRequiredService<JobStore>();
            return (await store.ClaimCappedAsync(Guid.NewGuid(), node, ["capped-0"], 8, caps, CancellationToken.None)).Claimed;
        }

        var claims = await Task.WhenAll(Enumerable.Range(0, 4).Select(n => ClaimAsync("node-" + n)));
        Assert.Equal(2, claims.Sum(c => c.Count));

        // One ends: exactly one place is free again.
        await using (var db = app.CreateDbContext())
        {
            var done = claims.First(c => c.Count > 0)[0].Id;
            await db.Jobs.Where(j => j.Id == done).ExecuteUpdateAsync(s => s.SetProperty(j => j.State, JobState.Succeeded));
        }
        var again = await Task.WhenAll(Enumerable.Range(0, 4).Select(n => ClaimAsync("node-" + n)));
        Assert.Equal(1, again.Sum(c => c.Count));

        await using (var db = app.CreateDbContext())
        {
            await db.Jobs.Where(j => ids.Contains(j.Id)).ExecuteDeleteAsync();
        }
    }

    /// <summary>
    /// Samples the running jobs (of a type or a queue) from the table every 20 ms until every job in
    /// <paramref name="jobs"/> succeeded: the largest number seen at once, and the nodes that ran them.
    /// </summary>
    private async Task<(int Most, HashSet<string> Nodes)> SampleRunningAsync(string? type, string? queue, List<Guid> jobs, TimeSpan timeout)
    {
        await using var db = app.CreateDbContext();
        var most = 0;
        var nodes = new HashSet<string>();
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var running = await db.Jobs.AsNoTracking()
                .Where(j => j.State == JobState.Running && (type == null || j.Type == type) && (queue == null || j.Queue == queue))
                .Select(j => j.Node).ToListAsync();
            most = Math.Max(most, running.Count);
            foreach (var n in running) nodes.Add(n!);
            if (await db.Jobs.CountAsync(j => jobs.Contains(j.Id) && j.State == JobState.Succeeded) == jobs.Count) return (most, nodes);
            if (clock.Elapsed > timeout) Assert.Fail($"Not all {jobs.Count} jobs succeeded within {timeout.TotalSeconds} s (most running at once: {most}).");
            await Task.Delay(20);
        }
    }
}
