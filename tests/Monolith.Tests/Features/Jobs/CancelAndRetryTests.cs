using System.Diagnostics;
using System.Net;
using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Features.Jobs;

public sealed class CancelAndRetryTests(MonolithFactory app) : IClassFixture<MonolithFactory>
{
    [Fact]
    public async Task Cancel_EndsRunningJobCancelled_WithinTwoSeconds()
    {
        var client = await app.CreateTenantClientAsync();
        var job = await client.SubmitJobAsync("sleep", new { ms = 60_000 });
        await client.WaitForStateAsync(job.Id, "running");

        var clock = Stopwatch.StartNew();
        using var response = await client.PostAsync($"/v1/jobs/{job.Id}/cancel", null);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var cancelled = await client.WaitForStateAsync(job.Id, "cancelled", TimeSpan.FromSeconds(2));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed}");
        Assert.NotNull(cancelled.FinishedAt);
        Assert.Equal("cancelled", Assert.Single(cancelled.Attempts).Outcome);
    }

    [Fact]
    public async Task Cancel_QueuedJob_NeverStarts()
    {
        var client = await app.CreateTenantClientAsync();
        var job = await client.SubmitJobAsync("noop", new { }, new { delaySeconds = 1 });

        using var response = await client.PostAsync($"/v1/jobs/{job.Id}/cancel", null);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("cancelled", (await client.GetJobAsync(job.Id)).State);
        // Past its runAt, the worker must not pick it up: a job due after it runs (so the worker has claimed past its runAt).
        var later = await client.SubmitJobAsync("noop", new { }, new { delaySeconds = 1 });
        await client.WaitForStateAsync(later.Id, "succeeded", TimeSpan.FromSeconds(10));
        var after = await client.GetJobAsync(job.Id);
        Assert.Equal("cancelled", after.State);
        Assert.Equal(0, after.Attempt);
        Assert.Null(after.StartedAt);
        Assert.Empty(after.Attempts);
    }

    [Fact]
    public async Task Cancel_FinishedJob_IsConflict()
    {
        var client = await app.CreateTenantClientAsync();
        var job = await client.SubmitJobAsync("noop", new { });
        await client.WaitForStateAsync(job.Id, "succeeded");

        using var response = await client.PostAsync($"/v1/jobs/{job.Id}/cancel", null);

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task Retry_FailedJob_RunsItAgain_KeepingEarlierErrors()
    {
        var client = await app.CreateTenantClientAsync();
        var job = await client.SubmitJobAsync("fail", new { failTimes = 1, retryable = false });
        await client.WaitForStateAsync(job.Id, "failed");

        using var response = await client.PostAsync($"/v1/jobs/{job.Id}/retry", null);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        // A retry starts a new run whose attempts count from 1 again; this fail job fails every attempt 1.
        var failedAgain = await client.WaitForStateAsync(job.Id, "failed");
        Assert.Equal(2, failedAgain.Attempts.Count);
        Assert.All(failedAgain.Attempts, a => Assert.Equal("failed", a.Outcome));
    }

    [Fact]
    public async Task Retry_CancelledJob_RunsAgainToSuccess()
    {
        var client = await app.CreateTenantClientAsync();
        var job = await client.SubmitJobAsync("noop", new { echo = "again" }, new { delaySeconds = 60 });
        await client.PostAsync($"/v1/jobs/{job.Id}/cancel", null);

        using var response = await client.PostAsync($"/v1/jobs/{job.Id}/retry", null);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var done = await client.WaitForStateAsync(job.Id, "succeeded");
        Assert.Equal("again", done.Result!.Value.GetProperty("echo").GetString());
    }

    [Fact]
    public async Task Retry_SucceededJob_IsConflict()
    {
        var client = await app.CreateTenantClientAsync();
        var job = await client.SubmitJobAsync("noop", new { });
        await client.WaitForStateAsync(job.Id, "succeeded");

        using var response = await client.PostAsync($"/v1/jobs/{job.Id}/retry", null);

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
    }
}
