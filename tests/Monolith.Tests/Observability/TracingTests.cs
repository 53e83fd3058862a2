using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Monolith.Tests.Infrastructure;
using Monolith.Worker.Engine;

namespace Monolith.Tests.Observability;

/// <summary>
/// One trace from the submitting request to the job's execution: the test listens to the service's activities
/// (ASP.NET Core's request activity and the engine's "Monolith.Jobs") as an OpenTelemetry SDK would.
/// </summary>
public sealed class TracingTests : IClassFixture<MonolithFactory>, IDisposable
{
    private readonly MonolithFactory app;
    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly ActivityListener _listener;

    public TracingTests(MonolithFactory app)
    {
        this.app = app;
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is JobTracing.SourceName or "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity => _stopped.Enqueue(activity),
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public void Dispose() => _listener.Dispose();

    [Fact]
    public async Task Execution_ContinuesTheSubmittingRequestsTrace()
    {
        var client = await app.CreateTenantClientAsync();
        var traceId = ActivityTraceId.CreateRandom();
        var callerSpan = ActivitySpanId.CreateRandom();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/jobs")
        {
            Content = JsonContent.Create(new { type = "noop", payload = new { } }),
        };
        request.Headers.Add("traceparent", $"00-{traceId}-{callerSpan}-01");

        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var job = (await response.Content.ReadFromJsonAsync<JobDto>(JobClientExtensions.Json))!;
        await client.WaitForStateAsync(job.Id, "succeeded");

        var execution = await WaitForAsync(a => a.Source.Name == JobTracing.SourceName && (string?)a.GetTagItem("job.id") == job.Id.ToString());
        var submit = await WaitForAsync(a => a.Source.Name == "Microsoft.AspNetCore" && a.TraceId == traceId && a.Kind == ActivityKind.Server
                                             && a.ParentSpanId == callerSpan);

        Assert.Equal(traceId, execution.TraceId);
        Assert.Equal(submit.SpanId, execution.ParentSpanId); // the job's span hangs under the submit request's span
        Assert.Equal(ActivityKind.Consumer, execution.Kind);
        Assert.Equal("noop", execution.GetTagItem("job.type"));
        Assert.Equal(1, execution.GetTagItem("job.attempt"));
        Assert.NotNull(execution.GetTagItem("node"));
        Assert.Equal(ActivityStatusCode.Ok, execution.Status);

        await using var db = app.CreateDbContext();
        var stored = await db.Jobs.Where(j => j.Id == job.Id).Select(j => j.TraceParent).SingleAsync();
        Assert.Equal($"00-{traceId}-{submit.SpanId}-01", stored);
    }

    [Fact]
    public async Task EveryAttempt_IsASpanOfTheSameTrace()
    {
        var client = await app.CreateTenantClientAsync();
        var traceId = ActivityTraceId.CreateRandom();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/jobs")
        {
            Content = JsonContent.Create(new { type = "fail", payload = new { failTimes = 1 }, backoffSeconds = 0.1 }),
        };
        request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01");
        using var response = await client.SendAsync(request);
        var job = (await response.Content.ReadFromJsonAsync<JobDto>(JobClientExtensions.Json))!;
        await client.WaitForStateAsync(job.Id, "succeeded");

        await WaitForAsync(a => (string?)a.GetTagItem("job.id") == job.Id.ToString() && 2.Equals(a.GetTagItem("job.attempt")));
        var attempts = _stopped.Where(a => (string?)a.GetTagItem("job.id") == job.Id.ToString()).OrderBy(a => (int)a.GetTagItem("job.attempt")!).ToList();

        Assert.Equal(2, attempts.Count);
        Assert.All(attempts, a => Assert.Equal(traceId, a.TraceId));
        Assert.Equal(ActivityStatusCode.Error, attempts[0].Status);
        Assert.Equal(ActivityStatusCode.Ok, attempts[1].Status);
    }

    private async Task<Activity> WaitForAsync(Func<Activity, bool> match)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (_stopped.FirstOrDefault(match) is { } found) return found;
            if (clock.Elapsed > TimeSpan.FromSeconds(15)) Assert.Fail($"No such activity among {_stopped.Count} stopped.");
            await Task.Delay(25);
        }
    }
}
