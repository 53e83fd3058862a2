using System.Diagnostics;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Http;
using Monolith.Tests.Features.HttpRequests;
using Monolith.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Monolith.Tests.Processes;

/// <summary>One <c>api</c> node and one <c>worker</c> node on one database: clients wait on the api node for jobs the worker runs.</summary>
public sealed class ApiAndWorkerPair : IAsyncLifetime
{
    public ProcessGroup Group { get; private set; } = null!;
    public ServiceProcess Api => Group["wait-api"];

    public async Task InitializeAsync()
    {
        Group = await ProcessGroup.CreateAsync(nameof(JobWaitAcrossNodesTests));
        try
        {
            // The api node re-reads a waited-on job only every 60 s by itself: an answer within seconds can only come
            // from the worker's notification.
            await Group.StartAsync(
                new NodeSpec("api", "wait-api", new Dictionary<string, string> { ["Worker__WaiterRecheckSeconds"] = "60" }),
                new NodeSpec("worker", "wait-worker"));
        }
        catch (Exception ex)
        {
            var logs = string.Join(Environment.NewLine, Group.Nodes.Select(n => n.Tail(50)));
            await Group.DisposeAsync();
            throw new InvalidOperationException($"The api + worker pair did not start: {ex.Message}{Environment.NewLine}{logs}", ex);
        }
    }

    public async Task DisposeAsync() => await Group.DisposeAsync();
}

[Collection("Processes")]
public sealed class JobWaitAcrossNodesTests(ApiAndWorkerPair pair, ITestOutputHelper output) : IClassFixture<ApiAndWorkerPair>
{
    private async Task<HttpClient> TenantClientAsync()
    {
        using var admin = pair.Api.CreateClient();
        var tenant = await admin.PostJsonAsync<MonolithFactory.CreatedTenant>("/v1/admin/tenants", new { name = "waiter" });
        var client = pair.Api.CreateClient(tenant.ApiKey.Key);
        client.Timeout = TimeSpan.FromSeconds(90);
        return client;
    }

    [Fact]
    public Task GetJob_WithWait_OnTheApiNode_AnswersWhenTheWorkerFinishesTheJob() =>
        output.WithLogsOnFailureAsync(pair.Group, async () =>
        {
            using var client = await TenantClientAsync();
            var job = await client.SubmitJobAsync("sleep", new { ms = 2000 });

            var clock = Stopwatch.StartNew();
            var done = await client.GetFromJsonAsync<JobDto>($"/v1/jobs/{job.Id}?wait=50", JobClientExtensions.Json);
            var waited = clock.Elapsed;
            output.Report($"?wait=50 on the api node answered after {waited.TotalSeconds:F2} s (job sleeps 2 s on the worker)");

            Assert.Equal("succeeded", done!.State);
            Assert.StartsWith("wait-worker", done.Attempts.Single().Node);
            Assert.InRange(waited, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(20));
        });

    [Fact]
    public Task HttpRequest_RunOnTheWorker_IsAnsweredOnTheApiNode_WithNoSecretInEitherLog() =>
        output.WithLogsOnFailureAsync(pair.Group, async () =>
        {
            const string token = "Bearer sk-proc-93be", ssn = "219-09-9999", answer = "vendor-secret-5521";
            await using var vendor = await LoopbackServer.StartAsync(async (context, _) =>
                await context.Response.WriteAsJsonAsync(new { verdict = answer }));
            using var client = await TenantClientAsync();
            var job = await client.SubmitJobAsync("http_request", new
            {
                method = "POST",
                url = vendor.Url("/verify"),
                headers = new Dictionary<string, string> { ["Authorization"] = token },
                body = new { ssn },
                sensitive = new[] { "ssn" },
            });

            var done = await client.GetFromJsonAsync<JobDto>($"/v1/jobs/{job.Id}?wait=50", JobClientExtensions.Json);

            Assert.Equal("succeeded", done!.State);
            Assert.StartsWith("wait-worker", done.Attempts.Single().Node);
            Assert.Contains(answer, done.Result!.Value.GetProperty("body").GetString()); // encrypted by the worker, read on the api node
            Assert.Equal(token, Assert.Single(vendor.Requests).Headers["Authorization"]);
            var worker = pair.Group["wait-worker"];
            await ProcessTestKit.WaitUntilAsync("the worker's log of the run reached stdout", TimeSpan.FromSeconds(10), // the worker logged the run
                () => Task.FromResult(worker.Lines.Any(l => l.Contains(job.Id.ToString(), StringComparison.Ordinal))),
                () => Task.FromResult(worker.Tail(10)));
            foreach (var node in pair.Group.Nodes)
            {
                var log = string.Join('\n', node.Lines);
                Assert.NotEmpty(node.Lines);
                Assert.DoesNotContain("sk-proc-93be", log);
                Assert.DoesNotContain(ssn, log);
                Assert.DoesNotContain(answer, log);
            }
        });

    [Fact]
    public Task JobEvents_OnTheApiNode_EndWhenTheWorkerFinishesTheJob() =>
        output.WithLogsOnFailureAsync(pair.Group, async () =>
        {
            using var client = await TenantClientAsync();
            var job = await client.SubmitJobAsync("sleep", new { ms = 2000 });

            var events = await client.ReadJobEventsAsync(job.Id, TimeSpan.FromSeconds(40));
            output.Report($"events on the api node: {string.Join(", ", events.Select(e => $"{e.Name}@{e.At.TotalSeconds:F2}s"))}");

            Assert.Equal("state", events[^1].Name);
            Assert.Equal("succeeded", events[^1].Data.GetProperty("state").GetString());
            Assert.Equal(100, events.Last(e => e.Name == "progress").Data.GetProperty("percent").GetInt32());
            Assert.True(events.Count(e => e.Name == "progress") >= 3, "Progress reported on the worker did not reach the api node's stream.");
            Assert.True(events[^1].At < TimeSpan.FromSeconds(20), $"The stream ended after {events[^1].At.TotalSeconds:F1} s.");
        });
}
