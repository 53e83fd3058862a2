using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Features.Jobs;

/// <summary>Waiting on a job without polling: <c>GET /v1/jobs/{id}?wait=</c> and <c>GET /v1/jobs/{id}/events</c>.</summary>
public sealed class WaitForJobTests(MonolithFactory app) : IClassFixture<MonolithFactory>
{
    [Fact]
    public async Task GetJob_WithWait_AnswersWhenTheJobFinishes()
    {
        var client = await app.CreateTenantClientAsync();
        var job = await client.SubmitJobAsync("sleep", new { ms = 1500 });

        var clock = Stopwatch.StartNew();
        var done = await client.GetFromJsonAsync<JobDto>($"/v1/jobs/{job.Id}?wait=30", JobClientExtensions.Json);

        Assert.Equal("succeeded", done!.State);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(15));
    }

    [Fact]
    public async Task GetJob_WithWait_AnswersWithTheCurrentState_WhenTheWaitEnds()
    {
        var client = await app.CreateTenantClientAsync();
        var job = await client.SubmitJobAsync("sleep", new { ms = 60_000 });

        var clock = Stopwatch.StartNew();
        var seen = await client.GetFromJsonAsync<JobDto>($"/v1/jobs/{job.Id}?wait=2", JobClientExtensions.Json);

        Assert.Contains(seen!.State, new[] { "queued", "running" });
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(1.9), TimeSpan.FromSeconds(10));
        await client.PostAsync($"/v1/jobs/{job.Id}/cancel", null);
    }

    [Fact]
    public async Task GetJob_WithWait_AnswersWhenAWaitingJobIsCancelled()
    {
        var client = await app.CreateTenantClientAsync();
        var job = await client.SubmitJobAsync("sleep", new { ms = 10 }, new { delaySeconds = 3600 });

        var waiting = client.GetFromJsonAsync<JobDto>($"/v1/jobs/{job.Id}?wait=30", JobClientExtensions.Json);
        await Task.Delay(300); // the point: the answer is held (not given at once) while the job waits
        Assert.False(waiting.IsCompleted);
        using var cancel = await client.PostAsync($"/v1/jobs/{job.Id}/cancel", null);
        var clock = Stopwatch.StartNew();
        var done = await waiting;

        Assert.Equal("cancelled", done!.State);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"Answered {clock.Elapsed.TotalSeconds:F1} s after the cancel.");
    }

    [Fact]
    public async Task GetJob_WithANegativeWait_IsA400()
    {
        var client = await app.CreateTenantClientAsync();
        var job = await client.SubmitJobAsync("noop", new { });

        using var response = await client.GetAsync($"/v1/jobs/{job.Id}?wait=-1");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(problem.GetProperty("errors").TryGetProperty("wait", out _), problem.ToString());
    }

    [Fact]
    public async Task JobEvents_StreamProgressAndStates_AndEndAfterTheFinalState()
    {
        var client = await app.CreateTenantClientAsync();
        var job = await client.SubmitJobAsync("sleep", new { ms = 1000 });

        var events = await client.ReadJobEventsAsync(job.Id, TimeSpan.FromSeconds(30));

        var last = events[^1];
        Assert.Equal("state", last.Name);
        Assert.Equal("succeeded", last.Data.GetProperty("state").GetString());
        Assert.Equal("state", events[0].Name);
        var progress = events.Where(e => e.Name == "progress").Select(e => e.Data.GetProperty("percent").GetInt32()).ToList();
        Assert.True(progress.Count >= 3, $"Only {progress.Count} progress events: {string.Join(", ", progress)}");
        Assert.Equal(progress.OrderBy(p => p), progress);
        Assert.Equal(100, progress[^1]);
        Assert.Contains(events, e => e.Name == "state" && e.Data.GetProperty("state").GetString() == "running");
    }

    [Fact]
    public async Task JobEvents_OfAFinishedJob_AreItsStateThenTheEnd()
    {
        var client = await app.CreateTenantClientAsync();
        var job = await client.SubmitJobAsync("noop", new { echo = "x" });
        await client.WaitForStateAsync(job.Id, "succeeded");

        var events = await client.ReadJobEventsAsync(job.Id, TimeSpan.FromSeconds(10));

        Assert.Equal("succeeded", events.Single(e => e.Name == "state").Data.GetProperty("state").GetString());
    }

    [Fact]
    public async Task JobEvents_OfAnotherTenantsJob_AreA404()
    {
        var owner = await app.CreateTenantClientAsync();
        var other = await app.CreateTenantClientAsync();
        var job = await owner.SubmitJobAsync("noop", new { });

        using var response = await other.GetAsync($"/v1/jobs/{job.Id}/events");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}
