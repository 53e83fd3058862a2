using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using Monolith.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Monolith.Tests.Processes;

/// <summary>
/// Traces leave real processes through the standard OTEL_* variables: an <c>api</c> node and a <c>worker</c> node each
/// export OTLP/HTTP (protobuf) to a collector of their own on 127.0.0.1, and the trace id the client sent with the
/// submit arrives from both, the worker's span carrying the job's id. (The protobuf is not decoded: the 16 bytes
/// of the trace id and the job id's text are looked for in the raw bodies.)
/// </summary>
[Collection("Processes")]
public sealed class TraceExportTests(ITestOutputHelper output)
{
    [Fact]
    public async Task SubmitOnApiNode_AndExecutionOnWorkerNode_ExportOneTraceId()
    {
        await using var apiCollector = await StartCollectorAsync();
        await using var workerCollector = await StartCollectorAsync();
        await using var group = await ProcessGroup.CreateAsync(nameof(TraceExportTests));
        static Dictionary<string, string> Otel(LoopbackServer collector) => new()
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.BaseUrl,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
        };

        await output.WithLogsOnFailureAsync(group, async () =>
        {
            var nodes = await group.StartAsync(
                new NodeSpec("api", "trace-api", Otel(apiCollector)),
                new NodeSpec("worker", "trace-worker", Otel(workerCollector)));
            using var client = nodes[0].CreateClient();
            var traceId = ActivityTraceId.CreateRandom();
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/jobs") { Content = JsonContent.Create(new { type = "noop", payload = new { } }) };
            request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01");
            using var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            var job = (await response.Content.ReadFromJsonAsync<JobDto>(JobClientExtensions.Json))!;
            await client.WaitForStateAsync(job.Id, "succeeded", TimeSpan.FromSeconds(60));

            var traceBytes = Convert.FromHexString(traceId.ToHexString());
            await WaitForExportAsync(apiCollector, body => Contains(body, traceBytes), "the api node's request span", TimeSpan.FromSeconds(30));
            await WaitForExportAsync(workerCollector,
                body => Contains(body, traceBytes) && Contains(body, Encoding.UTF8.GetBytes(job.Id.ToString())),
                "the worker node's span of the job", TimeSpan.FromSeconds(30));
            Assert.DoesNotContain(Exports(apiCollector), body => Contains(body, Encoding.UTF8.GetBytes("noop execute")));
        });
    }

    private static bool Contains(byte[] body, byte[] part) => body.AsSpan().IndexOf(part) >= 0;

    /// <summary>The smallest OTLP/HTTP collector: a loopback server answering each POST /v1/traces 200 (an empty response message); the bodies are its recorded requests'.</summary>
    private static async Task<LoopbackServer> StartCollectorAsync()
    {
        var collector = await LoopbackServer.StartAsync();
        collector.Handle("POST", TracesPath, http =>
        {
            http.Response.ContentType = "application/x-protobuf";
            return Task.CompletedTask;
        });
        return collector;
    }

    private const string TracesPath = "/v1/traces";

    private static IEnumerable<byte[]> Exports(LoopbackServer collector) =>
        collector.Requests.Where(r => r.Path == TracesPath).Select(r => r.BodyBytes ?? []);

    private static Task WaitForExportAsync(LoopbackServer collector, Func<byte[], bool> match, string what, TimeSpan timeout) =>
        collector.WaitForAsync(r => r.Path == TracesPath && r.Status is not null && match(r.BodyBytes ?? []), timeout, what: $"export(s) with {what}");
}
