using Microsoft.EntityFrameworkCore;
using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Worker.Engine;

/// <summary>A node with 8 slots and noop jobs limited to 5 starts per second across the cluster.</summary>
public sealed class RateLimitedFactory : MonolithFactory
{
    public const int PerSecond = 5;

    protected override Dictionary<string, string?> Settings => new(base.Settings)
    {
        ["WORKER_CONCURRENCY"] = "8",
        [$"Worker:TypeRateLimits:noop"] = PerSecond.ToString(),
    };
}

public sealed class RateLimitTests(RateLimitedFactory app) : IClassFixture<RateLimitedFactory>
{
    [Fact]
    public async Task TypeRateLimit_SpreadsStartsOverOneSecondWindows()
    {
        var client = await app.CreateTenantClientAsync();
        var ids = (await client.PostJsonAsync<BatchDto>("/v1/jobs/batch",
            new { jobs = Enumerable.Range(0, 20).Select(_ => new { type = "noop", payload = new { } }).ToArray() })).Ids;
        var other = await client.SubmitJobAsync("fail", new { failTimes = 0 });

        foreach (var id in ids) await client.WaitForStateAsync(id, "succeeded", TimeSpan.FromSeconds(60));
        await client.WaitForStateAsync(other.Id, "succeeded", TimeSpan.FromSeconds(5));

        await using var db = app.CreateDbContext();
        var starts = (await db.JobAttempts.Where(a => ids.Contains(a.JobId)).Select(a => a.StartedAt).ToListAsync()).Order().ToList();
        Assert.Equal(20, starts.Count);
        // Fixed one-second windows of at most 5 starts: 20 jobs need 4 windows (over 3 s from first to last start),
        // and any 11 consecutive starts span 3 windows, so more than a second.
        Assert.True(starts[^1] - starts[0] >= TimeSpan.FromSeconds(3), $"20 starts within {(starts[^1] - starts[0]).TotalSeconds:F2} s");
        for (var i = 0; i + 2 * RateLimitedFactory.PerSecond < starts.Count; i++)
        {
            var span = starts[i + 2 * RateLimitedFactory.PerSecond] - starts[i];
            Assert.True(span >= TimeSpan.FromSeconds(1), $"starts {i}..{i + 2 * RateLimitedFactory.PerSecond} within {span.TotalSeconds:F3} s");
        }
        // And it does not crawl: the windows follow one another (generous: 20 at 5/s is about 4 s).
        Assert.True(starts[^1] - starts[0] < TimeSpan.FromSeconds(20), $"took {(starts[^1] - starts[0]).TotalSeconds:F1} s");
    }

    public sealed record BatchDto(List<Guid> Ids);
}
