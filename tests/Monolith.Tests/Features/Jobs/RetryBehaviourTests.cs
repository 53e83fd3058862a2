using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Features.Jobs;

public sealed class RetryBehaviourTests(MonolithFactory app) : IClassFixture<MonolithFactory>
{
    [Fact]
    public async Task RetryableFailure_IsRetriedWithBackoff_ThenSucceeds()
    {
        var client = await app.CreateTenantClientAsync();

        var job = await client.SubmitJobAsync("fail", new { failTimes = 2 }, new { backoffSeconds = 0.2, maxAttempts = 5 });

        var done = await client.WaitForStateAsync(job.Id, "succeeded");
        Assert.Equal(3, done.Attempt);
        Assert.Equal(["failed", "failed", "succeeded"], done.Attempts.Select(a => a.Outcome));
        Assert.Contains("attempt 1", done.Attempts[0].Error);
        Assert.Contains("attempt 2", done.Attempts[1].Error);
        // Exponential backoff: the second wait (about 0.4 s) is longer than the first (about 0.2 s), each ±20 %.
        var firstWait = done.Attempts[1].StartedAt - done.Attempts[0].FinishedAt;
        var secondWait = done.Attempts[2].StartedAt - done.Attempts[1].FinishedAt;
        Assert.True(firstWait >= TimeSpan.FromMilliseconds(150), $"first wait {firstWait}");
        Assert.True(secondWait >= TimeSpan.FromMilliseconds(300), $"second wait {secondWait}");
    }

    [Fact]
    public async Task NonRetryableFailure_FailsAtOnce()
    {
        var client = await app.CreateTenantClientAsync();

        var job = await client.SubmitJobAsync("fail", new { failTimes = 1, retryable = false }, new { maxAttempts = 5 });

        var failed = await client.WaitForStateAsync(job.Id, "failed");
        Assert.Equal(1, failed.Attempt);
        Assert.Contains("meant to fail", failed.LastError);
        Assert.Single(failed.Attempts);
    }

    [Fact]
    public async Task ExhaustedAttempts_FailTheJob_KeepingEveryError()
    {
        var client = await app.CreateTenantClientAsync();

        var job = await client.SubmitJobAsync("fail", new { failTimes = 10 }, new { maxAttempts = 3, backoffSeconds = 0.05 });

        var failed = await client.WaitForStateAsync(job.Id, "failed");
        Assert.Equal(3, failed.Attempt);
        Assert.StartsWith("Attempts exhausted (3)", failed.LastError);
        Assert.Equal(3, failed.Attempts.Count);
        Assert.All(failed.Attempts, a => Assert.Equal("failed", a.Outcome));
        Assert.Equal([1, 2, 3], failed.Attempts.Select(a => a.Attempt));
    }
}
