using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Monolith.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Monolith.Tests.Features.Queues;

/// <summary>POST /v1/queues/{name}/pause and /resume: admin only; a paused queue's jobs are not claimed.</summary>
public sealed class QueuePauseTests(MonolithFactory app, ITestOutputHelper output) : IClassFixture<MonolithFactory>
{
    [Fact]
    public async Task PausedQueue_IsNotClaimed_UntilResumed_WhileSubmitAndCancelStillWork()
    {
        var client = await app.CreateTenantClientAsync();
        using var admin = app.CreateAdminClient();

        var paused = await admin.PostJsonAsync<PauseDto>("/v1/queues/critical/pause", new { });

        Assert.Equal(new PauseDto("critical", true, paused.PausedAt, "admin"), paused);
        Assert.NotNull(paused.PausedAt);
        var waiting = await client.SubmitJobAsync("noop", new { }, new { queue = "critical" });
        var toCancel = await client.SubmitJobAsync("noop", new { }, new { queue = "critical" });
        var elsewhere = await client.SubmitJobAsync("noop", new { }, new { queue = "default" });
        await client.WaitForStateAsync(elsewhere.Id, "succeeded"); // other queues run as usual
        using (var cancel = await client.PostAsync($"/v1/jobs/{toCancel.Id}/cancel", null))
        {
            Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        }
        // Held while the worker claims on: a later job of another queue runs (the worker claimed after the held job was
        // queued), and the queue's figures show the held job queued for 2.5 s (the age the figures are checked for below).
        var marker = await client.SubmitJobAsync("noop", new { }, new { queue = "default" });
        await client.WaitForStateAsync(marker.Id, "succeeded");
        await client.WaitForQueueAsync("critical", q => q.OldestQueuedAgeSeconds >= 2.5);

        var held = await client.GetJobAsync(waiting.Id);
        Assert.Equal("queued", held.State);
        Assert.Equal(0, held.Attempt);
        Assert.Equal("cancelled", (await client.GetJobAsync(toCancel.Id)).State);
        var figures = await client.GetQueueAsync("critical");
        Assert.True(figures.Paused);
        Assert.Equal(new CountsDto(0, Queued: 1, 0, 0, 0, 0, Cancelled: 1), figures.Counts);
        Assert.True(figures.OldestQueuedAgeSeconds >= 2.5, figures.ToString());

        var clock = Stopwatch.StartNew();
        var resumed = await admin.PostJsonAsync<PauseDto>("/v1/queues/critical/resume", new { });
        var done = await client.WaitForStateAsync(waiting.Id, "succeeded", TimeSpan.FromSeconds(5));

        output.WriteLine($"resume to succeeded: {clock.ElapsedMilliseconds} ms");
        Assert.Equal(new PauseDto("critical", false, null, null), resumed);
        Assert.Equal(1, done.Attempt);
        Assert.False((await client.GetQueueAsync("critical")).Paused);
    }

    [Fact]
    public async Task PauseAndResume_AreIdempotent()
    {
        using var admin = app.CreateAdminClient();
        try
        {
            var first = await admin.PostJsonAsync<PauseDto>("/v1/queues/low/pause", new { });
            var second = await admin.PostJsonAsync<PauseDto>("/v1/queues/low/pause", new { });

            Assert.Equal(first, second); // the first pause stands
            Assert.True((await admin.GetQueueAsync("low")).Paused);
            Assert.Equal(first.PausedAt, (await admin.GetQueueAsync("low")).PausedAt);
        }
        finally
        {
            await admin.ResumeAsync("low");
        }
        await admin.ResumeAsync("low");
        Assert.False((await admin.GetQueueAsync("low")).Paused);
    }

    [Theory]
    [InlineData("pause")]
    [InlineData("resume")]
    public async Task TenantKey_CannotPauseOrResume_403Problem(string action)
    {
        var tenant = await app.CreateTenantClientAsync();
        using var admin = app.CreateAdminClient();

        using var response = await tenant.PostAsync($"/v1/queues/default/{action}", null);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        Assert.False((await admin.GetQueueAsync("default")).Paused);
    }

    [Theory]
    [InlineData("pause", "nowhere")]
    [InlineData("resume", "nowhere")]
    [InlineData("pause", "Default")]
    public async Task UnknownQueue_Is400ProblemNamingTheField(string action, string queue)
    {
        using var admin = app.CreateAdminClient();

        using var response = await admin.PostAsync($"/v1/queues/{queue}/{action}", null);

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, body);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        var errors = JsonDocument.Parse(body).RootElement.GetProperty("errors");
        Assert.Equal(["name"], errors.EnumerateObject().Select(p => p.Name));
        Assert.DoesNotContain((await admin.GetQueuesAsync()).Items, q => q.Name == queue);
    }

    [Fact]
    public async Task WithoutKey_Is401()
    {
        using var anonymous = app.CreateClient();

        using var list = await anonymous.GetAsync("/v1/queues");
        using var pause = await anonymous.PostAsJsonAsync("/v1/queues/default/pause", new { });

        Assert.Equal(HttpStatusCode.Unauthorized, list.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, pause.StatusCode);
    }
}
