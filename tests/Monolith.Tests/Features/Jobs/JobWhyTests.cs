using System.Net;
using System.Net.Http.Json;
using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Features.Jobs;

/// <summary>What <c>GET /v1/jobs/{id}/why</c> answers.</summary>
public sealed record WhyDto(Guid Id, string State, List<BlockerDto> Blockers, WhyRunDto? Running);

public sealed record BlockerDto(
    string Kind, string Detail, string ClearsWhen, DateTimeOffset? Until, DateTimeOffset? Since, string? By, string? Key, int? Limit,
    int? Running, List<Guid>? HeldBy, string? Error, int? Attempt, string? Node, List<NodeCheckinDto>? Nodes);

public sealed record NodeCheckinDto(string Id, DateTimeOffset? LastCheckin, bool Live, int RunningJobs, int Slots);

public sealed record WhyRunDto(string Node, DateTimeOffset? Since, ProgressDto? Progress, DateTimeOffset? NodeLastCheckin, bool NodeLive);

public static class WhyClient
{
    public static async Task<WhyDto> WhyAsync(this HttpClient client, Guid id)
    {
        using var response = await client.GetAsync($"/v1/jobs/{id}/why");
        await JobClientExtensions.EnsureSuccessAsync(response);
        return (await response.Content.ReadFromJsonAsync<WhyDto>(JobClientExtensions.Json))!;
    }

    /// <summary>Cancels the jobs that have not ended and waits until they have: the next test finds the slot free.</summary>
    public static async Task CancelAndWaitAsync(this HttpClient client, params Guid[] ids)
    {
        foreach (var id in ids)
        {
            using var response = await client.PostAsync($"/v1/jobs/{id}/cancel", null);
            if (response.StatusCode != HttpStatusCode.Conflict) await JobClientExtensions.EnsureSuccessAsync(response);
        }
        foreach (var id in ids)
        {
            await Monolith.Tests.Processes.ProcessTestKit.WaitUntilAsync($"job {id} ended", TimeSpan.FromSeconds(30),
                async () => (await client.GetJobAsync(id)).State is "succeeded" or "failed" or "cancelled",
                async () => (await client.GetJobAsync(id)).State);
        }
    }

    public static string Show(this WhyDto why) => System.Text.Json.JsonSerializer.Serialize(why);
}

/// <summary>Jobs a test started, ended however the test ends.</summary>
public sealed class StartedJobs(HttpClient client) : IAsyncDisposable
{
    private readonly List<Guid> _ids = [];

    public Guid Add(Guid id)
    {
        _ids.Add(id);
        return id;
    }

    public async ValueTask DisposeAsync() => await client.CancelAndWaitAsync([.. _ids]);
}

/// <summary>
/// Each blocker produced for real on one node with one slot and every cap at 1 (queue low, type sleep, per tenant), read
/// back over HTTP. Tests of the class run one after another: each ends the jobs it started, so the next finds the slot free.
/// </summary>
public sealed class JobWhyTests(JobWhyTests.OneSlotFactory app) : IClassFixture<JobWhyTests.OneSlotFactory>
{
    public sealed class OneSlotFactory : MonolithFactory
    {
        protected override Dictionary<string, string?> Settings => new(base.Settings)
        {
            ["WORKER_CONCURRENCY"] = "1",
            ["Worker:PrefetchMilliseconds"] = "0",
            ["Worker:QueueConcurrency:low"] = "1",
            ["Worker:TypeConcurrency:sleep"] = "1",
            ["Worker:TenantConcurrency"] = "1",
            ["Worker:TypeRateLimits:fail"] = "1",
        };
    }

    [Fact]
    public async Task AJobDueLater_IsHeldByDueLater_UntilItsRunAt()
    {
        var client = await app.CreateTenantClientAsync();
        await using var started = new StartedJobs(client);
        var job = await client.GetJobAsync(started.Add((await client.SubmitJobAsync("noop", new { }, new { delaySeconds = 3600 })).Id));

        var why = await client.WhyAsync(job.Id);

        var blocker = Assert.Single(why.Blockers);
        Assert.Equal(("scheduled", "due_later", job.ScheduledAt), (why.State, blocker.Kind, blocker.Until));
        Assert.Null(why.Running);
    }

    [Fact]
    public async Task TheDashboardsJobPage_ShowsWhatHoldsTheJob()
    {
        var client = await app.CreateTenantClientAsync();
        await using var started = new StartedJobs(client);
        var job = started.Add((await client.SubmitJobAsync("noop", new { }, new { delaySeconds = 3600 })).Id);
        using var dashboard = await Monolith.Tests.Dashboard.DashboardLogin.LoginAsync(app);

        var page = await dashboard.GetStringAsync($"/dashboard/jobs/{job}");

        Assert.Contains("<h2>Why</h2>", page);
        Assert.Contains("data-kind=\"due_later\"", page);
    }

    [Fact]
    public async Task AJobWaitingForItsRetryBackoff_NamesTheEndOfTheBackoffAndTheError()
    {
        var client = await app.CreateTenantClientAsync();
        await using var started = new StartedJobs(client);
        var job = await client.SubmitJobAsync("fail", new { failTimes = 5 }, new { maxAttempts = 3, backoffSeconds = 3600 });
        started.Add(job.Id);
        var retrying = await client.WaitForStateAsync(job.Id, "retrying");

        var why = await client.WhyAsync(job.Id);

        var blocker = Assert.Single(why.Blockers);
        Assert.Equal(("retry_backoff", retrying.ScheduledAt, 1), (blocker.Kind, blocker.Until, blocker.Attempt));
        Assert.Equal(retrying.LastError, blocker.Error);
        Assert.False(string.IsNullOrEmpty(blocker.Error));
    }

    [Fact]
    public async Task AJobOfAPausedQueue_NamesThePauseWithWhenAndByWhom()
    {
        var admin = app.CreateAdminClient();
        var client = await app.CreateTenantClientAsync();
        await using var started = new StartedJobs(client);
        using (var pause = await admin.PostAsync("/v1/queues/critical/pause", null)) await JobClientExtensions.EnsureSuccessAsync(pause);
        try
        {
            var job = await client.SubmitJobAsync("noop", new { }, new { queue = "critical" });
            started.Add(job.Id);

            var why = await client.WhyAsync(job.Id);

            var blocker = Assert.Single(why.Blockers);
            Assert.Equal(("queued", "queue_paused"), (why.State, blocker.Kind));
            Assert.NotNull(blocker.Since);
            Assert.False(string.IsNullOrEmpty(blocker.By));
            Assert.Contains("/v1/queues/critical/resume", blocker.ClearsWhen);
        }
        finally
        {
            using var resume = await admin.PostAsync("/v1/queues/critical/resume", null);
        }
    }

    [Fact]
    public async Task FullCaps_NameTheirKeysAndTheCallersOwnHolders_NeverAnotherTenants()
    {
        var alice = await app.CreateTenantClientAsync();
        var bob = await app.CreateTenantClientAsync();
        await using var alices = new StartedJobs(alice);
        await using var bobsJobs = new StartedJobs(bob);
        var running = await alice.SubmitJobAsync("sleep", new { ms = 600_000 }, new { queue = "low" });
        alices.Add(running.Id);
        await alice.WaitForStateAsync(running.Id, "running");
        var held = alices.Add((await alice.SubmitJobAsync("sleep", new { ms = 10 }, new { queue = "low" })).Id);
        var bobs = bobsJobs.Add((await bob.SubmitJobAsync("noop", new { }, new { queue = "low" })).Id);

        var why = await alice.WhyAsync(held);
        var bobsWhy = await bob.WhyAsync(bobs);

        Assert.True(why.Blockers.Select(b => b.Kind).SequenceEqual(["queue_cap_full", "type_cap_full", "tenant_cap_full", "no_free_slot"]), why.Show());
        Assert.All(why.Blockers.Take(3), b =>
        {
            Assert.Equal([running.Id], b.HeldBy!);
            Assert.Equal((1, 1), (b.Limit, b.Running));
        });
        Assert.Equal(["queue:low", "type:sleep", "tenant"], why.Blockers.Take(3).Select(b => b.Key!));
        var bobsQueue = Assert.Single(bobsWhy.Blockers, b => b.Kind == "queue_cap_full");
        Assert.Equal(1, bobsQueue.Running);
        Assert.Empty(bobsQueue.HeldBy!); // alice's job holds it: bob sees a count, never her job's id
        Assert.DoesNotContain(bobsWhy.Blockers, b => b.Kind is "type_cap_full" or "tenant_cap_full");
    }

    [Fact]
    public async Task ABacklogOfARateLimitedType_IsRateLimited_UntilTheWindowReopens()
    {
        var client = await app.CreateTenantClientAsync();
        await using var started = new StartedJobs(client);
        // Thirty quick jobs of a type started at most once a second: the last waits about 30 s, and between two claims
        // the current window holds its one start.
        var ids = await client.SubmitJobBatchAsync("fail", new { failTimes = 0 }, 30);
        foreach (var id in ids) started.Add(id);
        var why = await client.WhyAsync(ids[^1]);

        await Monolith.Tests.Processes.ProcessTestKit.WaitUntilAsync("why names the rate window", TimeSpan.FromSeconds(20), async () =>
        {
            why = await client.WhyAsync(ids[^1]);
            return why.Blockers.Any(b => b.Kind == "rate_limited");
        }, () => Task.FromResult(why.Show()));

        var blocker = Assert.Single(why.Blockers, b => b.Kind == "rate_limited");
        Assert.Equal(("type:fail", 1), (blocker.Key, blocker.Limit));
        Assert.Equal(blocker.Since + TimeSpan.FromSeconds(1), blocker.Until);
        Assert.Equal("queued", why.State);
    }

    [Fact]
    public async Task EverySlotTaken_IsNoFreeSlot_WithEachNodesRunningCount()
    {
        var alice = await app.CreateTenantClientAsync();
        var bob = await app.CreateTenantClientAsync();
        await using var alices = new StartedJobs(alice);
        await using var bobsJobs = new StartedJobs(bob);
        var running = alices.Add((await alice.SubmitJobAsync("sleep", new { ms = 600_000 })).Id);
        await alice.WaitForStateAsync(running, "running");
        var waiting = bobsJobs.Add((await bob.SubmitJobAsync("noop", new { })).Id);

        var why = await bob.WhyAsync(waiting);

        var blocker = Assert.Single(why.Blockers);
        Assert.True("no_free_slot" == blocker.Kind, why.Show());
        var node = Assert.Single(blocker.Nodes!);
        Assert.Equal((true, 1, 1), (node.Live, node.RunningJobs, node.Slots));
        await alice.CancelAndWaitAsync(running);
        await bob.WaitForStateAsync(waiting, "succeeded"); // the freed slot takes it
        Assert.Empty((await bob.WhyAsync(waiting)).Blockers);
    }

    [Fact]
    public async Task ARunningJob_NamesItsNodeSinceWhenItsProgressAndTheNodesCheckin()
    {
        var client = await app.CreateTenantClientAsync();
        await using var started = new StartedJobs(client);
        // Ten steps of 2 s: the first progress report comes 2 s in.
        var job = started.Add((await client.SubmitJobAsync("sleep", new { ms = 20_000 })).Id);
        await client.WaitForStateAsync(job, "running");
        await ProcessTestKitWait(async () => (await client.GetJobAsync(job)).Progress is not null);
        var seen = await client.GetJobAsync(job);

        var why = await client.WhyAsync(job);

        Assert.Equal("running", why.State);
        Assert.Empty(why.Blockers);
        var run = why.Running!;
        Assert.False(string.IsNullOrEmpty(run.Node));
        Assert.Equal(seen.StartedAt, run.Since);
        Assert.NotNull(run.Progress);
        Assert.True(run.NodeLive);
        Assert.NotNull(run.NodeLastCheckin);
    }

    [Fact]
    public async Task AnotherTenantsJob_Is404_AndAnUnknownId404()
    {
        var alice = await app.CreateTenantClientAsync();
        var bob = await app.CreateTenantClientAsync();
        await using var started = new StartedJobs(alice);
        var job = started.Add((await alice.SubmitJobAsync("noop", new { }, new { delaySeconds = 3600 })).Id);

        using var other = await bob.GetAsync($"/v1/jobs/{job}/why");
        using var unknown = await alice.GetAsync($"/v1/jobs/{Guid.NewGuid()}/why");
        using var notAnId = await alice.GetAsync("/v1/jobs/not-an-id/why");

        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
        Assert.Equal("application/problem+json", other.Content.Headers.ContentType!.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, notAnId.StatusCode);
    }

    private static Task ProcessTestKitWait(Func<Task<bool>> condition) =>
        Monolith.Tests.Processes.ProcessTestKit.WaitUntilAsync("the job reported progress", TimeSpan.FromSeconds(30), condition, () => Task.FromResult(""));
}

/// <summary>An API node with no worker anywhere: a waiting job's answer is no_live_worker.</summary>
public sealed class JobWhyWithoutWorkersTests(Monolith.Tests.Hosting.ApiOnlyFactory app) : IClassFixture<Monolith.Tests.Hosting.ApiOnlyFactory>
{

    [Fact]
    public async Task NoWorkerNode_IsNoLiveWorker()
    {
        var client = await app.CreateTenantClientAsync();
        var job = await client.SubmitJobAsync("noop", new { });

        var why = await client.WhyAsync(job.Id);

        var blocker = Assert.Single(why.Blockers);
        Assert.Equal(("queued", "no_live_worker"), (why.State, blocker.Kind));
        Assert.Empty(blocker.Nodes!);
        Assert.Contains("SERVICE_TYPE=worker", blocker.ClearsWhen);
    }
}
