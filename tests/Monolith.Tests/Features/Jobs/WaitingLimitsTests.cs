using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Monolith.Tests.Infrastructure;
using Monolith.Worker.Engine;

namespace Monolith.Tests.Features.Jobs;

/// <summary>A node that holds at most two waiting requests per tenant and three in all.</summary>
public sealed class WaitingCapsFactory : MonolithFactory
{
    public const int PerTenant = 2;
    public const int Total = 3;

    protected override Dictionary<string, string?> Settings => new(base.Settings)
    {
        ["Jobs:MaxWaitersPerTenant"] = PerTenant.ToString(),
        ["Jobs:MaxWaiters"] = Total.ToString(),
    };
}

/// <summary>
/// Requests waiting on a job (<c>?wait=</c>, <c>/events</c>) are capped per tenant and per node: past a cap the
/// answer is a 429 with <c>Retry-After</c> and a problem body, and another tenant still gets in while one is at its own.
/// </summary>
public sealed class WaitingCapsTests(WaitingCapsFactory app) : IClassFixture<WaitingCapsFactory>
{
    [Fact]
    public async Task PastATenantsCap_WaitingIsA429WithRetryAfter_WhileAnotherTenantStillGetsIn()
    {
        var alice = await app.CreateTenantClientAsync();
        var bob = await app.CreateTenantClientAsync();
        var aliceJob = await alice.SubmitJobAsync("noop", new { }, new { delaySeconds = 3600 });
        var bobJob = await bob.SubmitJobAsync("noop", new { }, new { delaySeconds = 3600 });
        var held = new List<HttpResponseMessage>();
        try
        {
            for (var i = 0; i < WaitingCapsFactory.PerTenant; i++) held.Add(await OpenEventsAsync(alice, aliceJob.Id, HttpStatusCode.OK));

            using var wait = await alice.GetAsync($"/v1/jobs/{aliceJob.Id}?wait=5");
            await AssertTooManyAsync(wait, "MaxWaitersPerTenant");
            held.Add(await OpenEventsAsync(alice, aliceJob.Id, HttpStatusCode.TooManyRequests));
            await AssertTooManyAsync(held[^1], "MaxWaitersPerTenant");
            // A read that does not wait is not held, so it is never refused.
            Assert.Equal(HttpStatusCode.OK, (await alice.GetAsync($"/v1/jobs/{aliceJob.Id}")).StatusCode);

            var clock = Stopwatch.StartNew();
            using var bobWait = await bob.GetAsync($"/v1/jobs/{bobJob.Id}?wait=1");
            Assert.Equal(HttpStatusCode.OK, bobWait.StatusCode);
            Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.9), $"Bob's wait answered after {clock.Elapsed.TotalSeconds:F2} s: it did not wait.");
        }
        finally
        {
            await ReleaseAsync(held);
        }
    }

    [Fact]
    public async Task PastTheNodesTotalCap_WaitingIsA429_UntilAWaiterEnds()
    {
        var alice = await app.CreateTenantClientAsync();
        var bob = await app.CreateTenantClientAsync();
        var carol = await app.CreateTenantClientAsync();
        var aliceJob = await alice.SubmitJobAsync("noop", new { }, new { delaySeconds = 3600 });
        var bobJob = await bob.SubmitJobAsync("noop", new { }, new { delaySeconds = 3600 });
        var carolJob = await carol.SubmitJobAsync("noop", new { }, new { delaySeconds = 3600 });
        var held = new List<HttpResponseMessage>();
        try
        {
            held.Add(await OpenEventsAsync(alice, aliceJob.Id, HttpStatusCode.OK));
            held.Add(await OpenEventsAsync(alice, aliceJob.Id, HttpStatusCode.OK));
            var bobStream = await OpenEventsAsync(bob, bobJob.Id, HttpStatusCode.OK);
            held.Add(bobStream);

            using (var refused = await OpenEventsAsync(carol, carolJob.Id, HttpStatusCode.TooManyRequests))
            {
                await AssertTooManyAsync(refused, "MaxWaiters");
            }
            using (var refusedWait = await carol.GetAsync($"/v1/jobs/{carolJob.Id}?wait=5"))
            {
                await AssertTooManyAsync(refusedWait, "MaxWaiters");
            }

            bobStream.Dispose(); // Bob goes away: his place is free again
            var clock = Stopwatch.StartNew();
            while (true)
            {
                var attempt = await OpenEventsAsync(carol, carolJob.Id, expected: null);
                if (attempt.StatusCode == HttpStatusCode.OK)
                {
                    held.Add(attempt);
                    break;
                }
                attempt.Dispose();
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "Carol was still refused 10 s after Bob's stream ended.");
                await Task.Delay(50);
            }
        }
        finally
        {
            await ReleaseAsync(held);
        }
    }

    /// <summary>Opens <c>/events</c> and returns once the answer's headers are in (a stream's first event).</summary>
    private static async Task<HttpResponseMessage> OpenEventsAsync(HttpClient client, Guid jobId, HttpStatusCode? expected)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var response = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, $"/v1/jobs/{jobId}/events"),
            HttpCompletionOption.ResponseHeadersRead, cts.Token);
        if (expected is { } status) Assert.Equal(status, response.StatusCode);
        return response;
    }

    private static async Task AssertTooManyAsync(HttpResponseMessage response, string setting)
    {
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var retryAfter = response.Headers.RetryAfter?.Delta;
        Assert.True(retryAfter is { TotalSeconds: >= 1 }, $"Retry-After: {response.Headers.RetryAfter}");
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(429, problem.GetProperty("status").GetInt32());
        Assert.Contains($"Jobs:{setting}", problem.GetProperty("detail").GetString());
    }

    /// <summary>Ends the streams and waits until the node has let go of every waiter, so the next test starts with free places.</summary>
    private async Task ReleaseAsync(List<HttpResponseMessage> responses)
    {
        foreach (var response in responses) response.Dispose();
        var waiters = app.Services.GetRequiredService<JobWaiters>();
        var clock = Stopwatch.StartNew();
        while (waiters.Count > 0 && clock.Elapsed < TimeSpan.FromSeconds(10)) await Task.Delay(20);
    }
}

/// <summary>A node whose event streams last at most 2 s and whose waiters re-check every 250 ms; its database commands are kept.</summary>
public sealed class ShortStreamsFactory : MonolithFactory
{
    public const double MaxStreamSeconds = 2;

    public ConcurrentQueue<string> Commands { get; } = new();

    protected override Dictionary<string, string?> Settings => new(base.Settings)
    {
        ["Jobs:MaxStreamSeconds"] = MaxStreamSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Worker:WaiterRecheckSeconds"] = "0.25",
    };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureLogging(logging => logging
            .AddProvider(new CommandLog(Commands))
            .AddFilter<CommandLog>("Microsoft.EntityFrameworkCore.Database.Command", LogLevel.Information));
    }

    /// <summary>Keeps the SQL text of every command EF Core logs as executed.</summary>
    private sealed class CommandLog(ConcurrentQueue<string> commands) : ILoggerProvider, ILogger
    {
        public ILogger CreateLogger(string categoryName) => categoryName == "Microsoft.EntityFrameworkCore.Database.Command" ? this : Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            commands.Enqueue(formatter(state, exception));

        public void Dispose() { }
    }
}

/// <summary>An event stream ends after <c>Jobs:MaxStreamSeconds</c> with the job as it is, and re-reads its job cheaply.</summary>
public sealed class EventStreamLimitsTests(ShortStreamsFactory app) : IClassFixture<ShortStreamsFactory>
{
    [Fact]
    public async Task Events_OfAJobDueInAYear_EndAfterTheMaxDuration_WithItsCurrentState()
    {
        var client = await app.CreateTenantClientAsync();
        var job = await client.SubmitJobAsync("noop", new { }, new { runAt = DateTimeOffset.UtcNow.AddYears(1) });

        var events = await client.ReadJobEventsAsync(job.Id, TimeSpan.FromSeconds(30));

        var states = events.Where(e => e.Name == "state").ToList();
        Assert.Equal(2, states.Count); // the job at once, then the job as it is when the stream ends
        Assert.Equal("state", events[^1].Name);
        Assert.Equal("scheduled", events[^1].Data.GetProperty("state").GetString());
        Assert.Equal(job.Id, events[^1].Data.GetProperty("id").GetGuid());
        Assert.InRange(events[^1].At, TimeSpan.FromSeconds(ShortStreamsFactory.MaxStreamSeconds - 0.1), TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task Events_OfAWaitingJob_ReadTheWholeJobOnlyWhenItChanged()
    {
        var client = await app.CreateTenantClientAsync();
        var job = await client.SubmitJobAsync("noop", new { echo = new string('x', 1000) }, new { delaySeconds = 3600 });
        var before = app.Commands.Count;

        await client.ReadJobEventsAsync(job.Id, TimeSpan.FromSeconds(30));

        // 2 s of stream with a re-check every 250 ms: about 8 re-checks. Only the first read and the last (the final
        // state event) load the job with its payload and attempts; the re-checks in between read the row's version
        // (xmin) alone.
        var commands = app.Commands.Skip(before).ToList();
        var wholeReads = commands.Count(c => c.Contains("job_attempts", StringComparison.Ordinal));
        var versionReads = commands.Count(c => c.Contains("xmin", StringComparison.Ordinal));
        Assert.InRange(wholeReads, 1, 3);
        Assert.True(versionReads >= 4, $"Only {versionReads} version reads: the stream did not re-check.");
    }
}
