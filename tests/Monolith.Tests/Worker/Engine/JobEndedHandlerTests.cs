using System.Collections.Concurrent;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Domain.Jobs;
using Monolith.Domain.Persistence;
using Monolith.Tests.Infrastructure;
using Monolith.Worker.Engine;

namespace Monolith.Tests.Worker.Engine;

/// <summary>
/// The service with one more <see cref="IJobEndedHandler"/> beside the webhooks: it is concerned with every job, records
/// each ended job it is given, and throws for the jobs a test tells it to refuse.
/// </summary>
public sealed class JobEndedFactory : MonolithFactory
{
    public RecordingHandler Handler { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureServices(services => services.AddSingleton<IJobEndedHandler>(Handler));
    }

    public sealed class RecordingHandler : IJobEndedHandler
    {
        public ConcurrentQueue<TerminalJob> Ended { get; } = new();
        public ConcurrentDictionary<Guid, bool> Refused { get; } = new();

        public bool Concerns(Job job, JobState state) => true;

        public Task JobsEndedAsync(IReadOnlyList<TerminalJob> ended, MonolithDbContext db, JobClient jobs, CancellationToken ct)
        {
            if (ended.FirstOrDefault(e => Refused.ContainsKey(e.Job.Id)) is { } refused)
            {
                throw new InvalidOperationException($"The test handler refuses job {refused.Job.Id}.");
            }
            foreach (var e in ended) Ended.Enqueue(e);
            return Task.CompletedTask;
        }
    }
}

/// <summary>
/// The engine's hook for jobs that end (<see cref="IJobEndedHandler"/>), with a handler that is not the webhooks: it is
/// told of every terminal transition once, at both places a job ends, and its writes share the transaction of the
/// terminal state (its failure leaves the job as it was).
/// </summary>
public sealed class JobEndedHandlerTests(JobEndedFactory app) : IClassFixture<JobEndedFactory>
{
    [Fact]
    public async Task EveryTerminalTransition_ReachesTheHandler_Once_AndRetriesDoNot()
    {
        var client = await app.CreateTenantClientAsync();
        var succeeds = await client.SubmitJobAsync("noop", new { });
        var retriesThenSucceeds = await client.SubmitJobAsync("fail", new { failTimes = 2 }, new { maxAttempts = 5, backoffSeconds = 0.2 });
        var failsAtOnce = await client.SubmitJobAsync("fail", new { failTimes = 1, retryable = false });
        var cancelledWaiting = await client.SubmitJobAsync("noop", new { }, new { delaySeconds = 600 });
        var cancelledRunning = await client.SubmitJobAsync("sleep", new { ms = 60_000 });

        await client.WaitForStateAsync(cancelledRunning.Id, "running");
        (await client.PostAsync($"/v1/jobs/{cancelledRunning.Id}/cancel", null)).EnsureSuccessStatusCode();
        (await client.PostAsync($"/v1/jobs/{cancelledWaiting.Id}/cancel", null)).EnsureSuccessStatusCode();
        var expected = new Dictionary<Guid, string>
        {
            [succeeds.Id] = "succeeded",
            [retriesThenSucceeds.Id] = "succeeded",
            [failsAtOnce.Id] = "failed",
            [cancelledWaiting.Id] = "cancelled",
            [cancelledRunning.Id] = "cancelled",
        };
        // The handler runs before the terminal state commits: once a client reads the state, the handler was told.
        foreach (var (id, state) in expected) await client.WaitForStateAsync(id, state);

        var told = app.Handler.Ended.Where(e => expected.ContainsKey(e.Job.Id)).ToList();
        Assert.Equal(expected.Keys.Order(), told.Select(e => e.Job.Id).Order());
        foreach (var e in told) Assert.Equal(expected[e.Job.Id], e.State.ToName());
        Assert.Equal("Cancelled before it ran.", told.Single(e => e.Job.Id == cancelledWaiting.Id).Error);
        Assert.Contains("fail job", told.Single(e => e.Job.Id == failsAtOnce.Id).Error);
        Assert.Equal(3, told.Single(e => e.Job.Id == retriesThenSucceeds.Id).Job.Attempt);
    }

    [Fact]
    public async Task AHandlerThatFails_LeavesTheWaitingJobUncancelled()
    {
        var client = await app.CreateTenantClientAsync();
        var job = await client.SubmitJobAsync("noop", new { }, new { delaySeconds = 600 });
        app.Handler.Refused[job.Id] = true;

        await using (var scope = app.Services.CreateAsyncScope())
        {
            var jobs = scope.ServiceProvider.GetRequiredService<JobClient>();
            await Assert.ThrowsAsync<InvalidOperationException>(() => jobs.CancelAsync(null, job.Id, CancellationToken.None));
        }

        // The cancel and the handler's writes are one transaction: neither happened.
        var after = await client.GetJobAsync(job.Id);
        Assert.Equal("scheduled", after.State);
        Assert.Null(after.FinishedAt);
        Assert.DoesNotContain(app.Handler.Ended, e => e.Job.Id == job.Id);

        app.Handler.Refused.TryRemove(job.Id, out _);
        (await client.PostAsync($"/v1/jobs/{job.Id}/cancel", null)).EnsureSuccessStatusCode();
        Assert.Equal("cancelled", (await client.GetJobAsync(job.Id)).State);
        Assert.Single(app.Handler.Ended, e => e.Job.Id == job.Id);
    }
}
