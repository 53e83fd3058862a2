using System.Text.Json;
using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Features.Queues;

/// <summary>GET /v1/queues counts a tenant's jobs per queue and state as GET /v1/jobs reads them.</summary>
public sealed class QueueFiguresTests(MonolithFactory app) : IClassFixture<MonolithFactory>
{
    [Fact]
    public async Task NewTenant_SeesTheConfiguredQueues_WithZeros()
    {
        var client = await app.CreateTenantClientAsync();

        var queues = await client.GetQueuesAsync();

        Assert.Equal(["critical", "default", "low"], queues.Items.Select(q => q.Name).Take(3));
        Assert.All(queues.Items, q => Assert.Equal(CountsDto.Zero, q.Counts));
        Assert.All(queues.Items, q => Assert.Equal(0, q.OldestQueuedAgeSeconds));
        Assert.True(Math.Abs((queues.MeasuredAt - DateTimeOffset.UtcNow).TotalSeconds) < 10);
    }

    [Fact]
    public async Task Counts_FollowJobsThroughEveryState()
    {
        var client = await app.CreateTenantClientAsync();
        var succeeded = new[] { await client.SubmitJobAsync("noop", new { }), await client.SubmitJobAsync("noop", new { }) };
        var failed = await client.SubmitJobAsync("fail", new { failTimes = 1, retryable = false });
        var cancelled = await client.SubmitJobAsync("noop", new { }, new { delaySeconds = 3600 });
        await client.PostAsync($"/v1/jobs/{cancelled.Id}/cancel", null);
        var scheduled = await client.SubmitJobAsync("noop", new { }, new { delaySeconds = 3600 });
        var retrying = await client.SubmitJobAsync("fail", new { failTimes = 5, retryable = true }, new { backoffSeconds = 3600 });
        var running = await client.SubmitJobAsync("sleep", new { ms = 60_000 });
        foreach (var job in succeeded) await client.WaitForStateAsync(job.Id, "succeeded");
        await client.WaitForStateAsync(failed.Id, "failed");
        await client.WaitForStateAsync(retrying.Id, "retrying");
        await client.WaitForStateAsync(running.Id, "running");

        var queue = await client.GetQueueAsync("default");

        Assert.Equal(new CountsDto(Scheduled: 1, Queued: 0, Running: 1, Retrying: 1, Succeeded: 2, Failed: 1, Cancelled: 1), queue.Counts);
        Assert.Equal(0, queue.OldestQueuedAgeSeconds);
        Assert.False(queue.Paused);

        // The running job is cancelled, the waiting ones too: they all end up counted as cancelled.
        foreach (var job in new[] { running, scheduled, retrying }) await client.PostAsync($"/v1/jobs/{job.Id}/cancel", null);
        await client.WaitForStateAsync(running.Id, "cancelled");

        Assert.Equal(new CountsDto(0, 0, 0, 0, Succeeded: 2, Failed: 1, Cancelled: 4), (await client.GetQueueAsync("default")).Counts);
        Assert.Equal(CountsDto.Zero, (await client.GetQueueAsync("critical")).Counts);
    }

    [Fact]
    public async Task RetryingAFailedJob_MovesItOutOfFailed()
    {
        var client = await app.CreateTenantClientAsync();
        using var admin = app.CreateAdminClient();
        var job = await client.SubmitJobAsync("fail", new { failTimes = 1, retryable = false }, new { queue = "low" });
        await client.WaitForStateAsync(job.Id, "failed");
        Assert.Equal(1, (await client.GetQueueAsync("low")).Counts.Failed);

        await admin.PauseAsync("low"); // so that the retried job stays queued while we look
        try
        {
            using var retry = await client.PostAsync($"/v1/jobs/{job.Id}/retry", null);
            await JobClientExtensions.EnsureSuccessAsync(retry);

            Assert.Equal(new CountsDto(0, Queued: 1, 0, 0, 0, Failed: 0, 0), (await client.GetQueueAsync("low")).Counts);
        }
        finally
        {
            await admin.ResumeAsync("low");
        }

        // This fail job fails attempt 1 of every run: it is counted failed again, once.
        await client.WaitForStateAsync(job.Id, "failed");
        Assert.Equal(new CountsDto(0, 0, 0, 0, 0, Failed: 1, 0), (await client.GetQueueAsync("low")).Counts);
    }

    [Fact]
    public async Task OldestQueuedAge_IsHowLongTheOldestDueJobHasWaited()
    {
        var client = await app.CreateTenantClientAsync();
        using var admin = app.CreateAdminClient();
        await admin.PauseAsync("low"); // nothing is claimed: the jobs stay waiting
        try
        {
            await client.SubmitJobAsync("noop", new { }, new { queue = "low" });
            var old = await client.SubmitJobAsync("noop", new { }, new { queue = "low" });
            var dueScheduled = await client.SubmitJobAsync("noop", new { }, new { queue = "low", delaySeconds = 3600 });
            var notDue = await client.SubmitJobAsync("noop", new { }, new { queue = "low", delaySeconds = 3600 });
            // As if `old` had waited 90 s, and `dueScheduled`'s runAt had passed 30 s ago (it now reads as queued).
            await QueueTestKit.ExecuteAsync(app.DatabaseUrl,
                "UPDATE jobs SET scheduled_at = now() - interval '90 seconds' WHERE id = @id", ("id", old.Id));
            await QueueTestKit.ExecuteAsync(app.DatabaseUrl,
                "UPDATE jobs SET scheduled_at = now() - interval '30 seconds' WHERE id = @id", ("id", dueScheduled.Id));

            var queue = await client.GetQueueAsync("low");

            Assert.True(queue.Paused);
            Assert.Equal(new CountsDto(Scheduled: 1, Queued: 3, 0, 0, 0, 0, 0), queue.Counts);
            Assert.InRange(queue.OldestQueuedAgeSeconds, 90, 100);
            Assert.Equal("queued", (await client.GetJobAsync(dueScheduled.Id)).State); // as GET /v1/jobs reads it
            Assert.Equal(0, (await client.GetQueueAsync("default")).OldestQueuedAgeSeconds);
            await client.PostAsync($"/v1/jobs/{notDue.Id}/cancel", null);
        }
        finally
        {
            await admin.ResumeAsync("low");
        }

        var drained = await client.WaitForQueueAsync("low", q => q.Counts.Succeeded == 3);
        Assert.Equal(new CountsDto(0, 0, 0, 0, Succeeded: 3, 0, Cancelled: 1), drained.Counts);
        Assert.Equal(0, drained.OldestQueuedAgeSeconds);
    }

    [Fact]
    public async Task Swagger_DescribesTheQueueEndpoints_WithExamples()
    {
        using var client = app.CreateClient();

        var document = JsonDocument.Parse(await client.GetStringAsync("/swagger/v1/swagger.json")).RootElement;

        var paths = document.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/v1/queues", out _));
        Assert.True(paths.TryGetProperty("/v1/queues/{name}/pause", out _));
        Assert.True(paths.TryGetProperty("/v1/queues/{name}/resume", out _));
        var counts = document.GetProperty("components").GetProperty("schemas").GetProperty("QueueCountsResponse");
        Assert.Equal(40, counts.GetProperty("properties").GetProperty("queued").GetProperty("example").GetInt32());
        var queue = document.GetProperty("components").GetProperty("schemas").GetProperty("QueueResponse");
        Assert.Equal("default", queue.GetProperty("properties").GetProperty("name").GetProperty("example").GetString());
    }
}
