using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Features.Jobs;

/// <summary>One worker slot, so every job waits its turn: the order they start in is the order the engine chose.</summary>
public sealed class SingleSlotFactory : MonolithFactory
{
    // No claiming ahead: these tests are about the order the claim picks. With it, jobs submitted within the first
    // Worker:PrefetchMilliseconds (10 ms) of a long job's start may be buffered behind it: the bounded inversion the
    // buffer trades for fewer statements (docs/engine.md, "Claiming ahead").
    protected override Dictionary<string, string?> Settings => new(base.Settings)
    {
        ["WORKER_CONCURRENCY"] = "1",
        ["Worker:PrefetchMilliseconds"] = "0",
    };
}

public sealed class PriorityAndQueueTests(SingleSlotFactory app) : IClassFixture<SingleSlotFactory>
{
    /// <summary>Occupies the one slot until the returned job is cancelled, so everything submitted meanwhile queues up.</summary>
    private static async Task<Guid> BlockTheSlotAsync(HttpClient client)
    {
        var blocker = await client.SubmitJobAsync("sleep", new { ms = 60_000 });
        await client.WaitForStateAsync(blocker.Id, "running");
        return blocker.Id;
    }

    private static async Task UnblockAsync(HttpClient client, Guid blocker)
    {
        using var response = await client.PostAsync($"/v1/jobs/{blocker}/cancel", null);
        await JobClientExtensions.EnsureSuccessAsync(response);
    }

    [Fact]
    public async Task UnderSaturation_HigherPriorityStartsFirst()
    {
        var client = await app.CreateTenantClientAsync();
        var blocker = await BlockTheSlotAsync(client);

        var low = new List<Guid>();
        var high = new List<Guid>();
        for (var i = 0; i < 3; i++) low.Add((await client.SubmitJobAsync("noop", new { }, new { priority = -10 })).Id);
        for (var i = 0; i < 3; i++) high.Add((await client.SubmitJobAsync("noop", new { }, new { priority = 10 })).Id);
        await UnblockAsync(client, blocker);

        var lowStarts = new List<DateTimeOffset>();
        var highStarts = new List<DateTimeOffset>();
        foreach (var id in low) lowStarts.Add((await client.WaitForStateAsync(id, "succeeded")).StartedAt!.Value);
        foreach (var id in high) highStarts.Add((await client.WaitForStateAsync(id, "succeeded")).StartedAt!.Value);
        Assert.True(highStarts.Max() < lowStarts.Min(),
            $"high-priority starts {string.Join(", ", highStarts.Select(t => t.ToString("HH:mm:ss.fff")))}; " +
            $"low-priority starts {string.Join(", ", lowStarts.Select(t => t.ToString("HH:mm:ss.fff")))}");
    }

    [Fact]
    public async Task WeightedQueues_SlowALowQueue_ButNeverStarveIt()
    {
        var client = await app.CreateTenantClientAsync();
        var blocker = await BlockTheSlotAsync(client);

        var critical = new List<Guid>();
        var low = new List<Guid>();
        for (var i = 0; i < 10; i++) low.Add((await client.SubmitJobAsync("noop", new { }, new { queue = "low" })).Id);
        for (var i = 0; i < 60; i++) critical.Add((await client.SubmitJobAsync("noop", new { }, new { queue = "critical" })).Id);
        await UnblockAsync(client, blocker);

        async Task<List<DateTimeOffset>> StartsAsync(IEnumerable<Guid> ids)
        {
            var starts = new List<DateTimeOffset>();
            foreach (var id in ids) starts.Add((await client.WaitForStateAsync(id, "succeeded")).StartedAt!.Value);
            return starts;
        }
        var criticalStarts = await StartsAsync(critical);
        var lowStarts = await StartsAsync(low);

        // Never starved: some low job started while critical work was still waiting, although all low jobs were
        // submitted first and critical outweighs low 6 to 1 (all 60 critical first would happen with p ≈ 1e-4).
        Assert.True(lowStarts.Min() < criticalStarts.Max(), "every low job waited for all critical jobs");
        var sequence = string.Concat(criticalStarts.Select(t => (t, c: 'C')).Concat(lowStarts.Select(t => (t, c: 'L'))).OrderBy(x => x.t).Select(x => x.c));
        // Slowed: although the low jobs were submitted first, critical jobs took most of the first slots
        // (about 6 in 7 while both queues had work; a majority of 20 fails with p < 1e-4).
        Assert.True(sequence[..20].Count(c => c == 'C') > 10, "start order (C = critical, L = low): " + sequence);
    }
}
