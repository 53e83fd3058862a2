using System.Net;
using System.Net.Http.Json;
using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Features.Jobs;

public sealed class SubmitJobTests(MonolithFactory app) : IClassFixture<MonolithFactory>
{
    [Fact]
    public async Task Submit_RunsJobToSucceeded_WithResult()
    {
        var client = await app.CreateTenantClientAsync();

        var job = await client.SubmitJobAsync("noop", new { echo = "hello" });

        Assert.Equal("queued", job.State);
        var done = await client.WaitForStateAsync(job.Id, "succeeded");
        Assert.Equal("hello", done.Result!.Value.GetProperty("echo").GetString());
        Assert.Equal(1, done.Attempt);
        Assert.NotNull(done.StartedAt);
        Assert.NotNull(done.FinishedAt);
        Assert.Equal("succeeded", Assert.Single(done.Attempts).Outcome);
    }

    [Fact]
    public async Task Submit_Answers202_WithLocationOfTheJob()
    {
        var client = await app.CreateTenantClientAsync();

        using var response = await client.PostAsJsonAsync("/v1/jobs", new { type = "noop", payload = new { } });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var job = await response.Content.ReadFromJsonAsync<JobDto>(JobClientExtensions.Json);
        Assert.Equal($"/v1/jobs/{job!.Id}", response.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task Submit_ReportsProgress_WhileJobRuns()
    {
        var client = await app.CreateTenantClientAsync();

        var job = await client.SubmitJobAsync("sleep", new { ms = 2000 });

        JobDto seen;
        do
        {
            seen = await client.GetJobAsync(job.Id);
            await Task.Delay(50);
        } while (seen.Progress is null && seen.State != "succeeded");
        Assert.Equal("running", seen.State);
        Assert.InRange(seen.Progress!.Percent, 1, 99);
        Assert.Contains("slept", seen.Progress.Message);
        var done = await client.WaitForStateAsync(job.Id, "succeeded");
        Assert.Equal(100, done.Progress!.Percent);
    }

    [Fact]
    public async Task Submit_HonoursRunAt_NotStartingBeforeIt()
    {
        var client = await app.CreateTenantClientAsync();
        var runAt = DateTimeOffset.UtcNow.AddSeconds(2);

        var job = await client.SubmitJobAsync("noop", new { }, new { runAt });

        Assert.Equal("scheduled", job.State);
        await Task.Delay(500); // the point: a while before runAt, it has not started (the product defines that moment)
        Assert.Equal("scheduled", (await client.GetJobAsync(job.Id)).State);
        var done = await client.WaitForStateAsync(job.Id, "succeeded", TimeSpan.FromSeconds(10));
        Assert.True(done.StartedAt >= runAt, $"started {done.StartedAt:O}, before runAt {runAt:O}");
        Assert.True(done.StartedAt < runAt.AddSeconds(2), $"started {done.StartedAt:O}, long after runAt {runAt:O}");
    }

    [Fact]
    public async Task Submit_HonoursDelaySeconds()
    {
        var client = await app.CreateTenantClientAsync();

        var job = await client.SubmitJobAsync("noop", new { }, new { delaySeconds = 1 });

        Assert.Equal("scheduled", job.State);
        var done = await client.WaitForStateAsync(job.Id, "succeeded", TimeSpan.FromSeconds(10));
        Assert.True(done.StartedAt >= job.CreatedAt.AddSeconds(1));
    }

    [Fact]
    public async Task Submit_FailsJobAfterTimeout_WithTimeoutError()
    {
        var client = await app.CreateTenantClientAsync();

        var job = await client.SubmitJobAsync("sleep", new { ms = 10_000 }, new { timeoutSeconds = 1, maxAttempts = 1 });

        var failed = await client.WaitForStateAsync(job.Id, "failed", TimeSpan.FromSeconds(10));
        Assert.Contains("Timed out after 1 s", failed.LastError);
        Assert.Equal("timed_out", Assert.Single(failed.Attempts).Outcome);
    }

    [Fact]
    public async Task Metrics_CountFinishedAttempts()
    {
        var client = await app.CreateTenantClientAsync();
        var job = await client.SubmitJobAsync("noop", new { });
        await client.WaitForStateAsync(job.Id, "succeeded");

        var metrics = await client.GetStringAsync("/metrics");

        Assert.Matches("""monolith_job_attempts_total\{type="noop",outcome="succeeded"\} [1-9]""", metrics);
        Assert.Contains("monolith_jobs_submitted_total{type=\"noop\",queue=\"default\"}", metrics);
    }
}
