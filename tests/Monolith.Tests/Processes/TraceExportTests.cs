using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
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
        await using var apiCollector = await OtlpCollector.StartAsync();
        await using var workerCollector = await OtlpCollector.StartAsync();
        await using var group = await ProcessGroup.CreateAsync(nameof(TraceExportTests));
        static Dictionary<string, string> Otel(OtlpCollector collector) => new()
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.Url,
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
            await apiCollector.WaitForAsync(body => Contains(body, traceBytes), "the api node's request span", TimeSpan.FromSeconds(30));
            await workerCollector.WaitForAsync(
                body => Contains(body, traceBytes) && Contains(body, Encoding.UTF8.GetBytes(job.Id.ToString())),
                "the worker node's span of the job", TimeSpan.FromSeconds(30));
            Assert.DoesNotContain(apiCollector.Bodies, body => Contains(body, Encoding.UTF8.GetBytes("noop execute")));
        });
    }

    private static bool Contains(byte[] body, byte[] part) => body.AsSpan().IndexOf(part) >= 0;

    /// <summary>The smallest OTLP/HTTP collector: keeps each POST /v1/traces body and answers 200 (an empty response message).</summary>
    private sealed class OtlpCollector : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private OtlpCollector(WebApplication app) => _app = app;

        public ConcurrentQueue<byte[]> Bodies { get; } = new();
        public string Url => _app.Urls.First();

        public static async Task<OtlpCollector> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
            var app = builder.Build();
            var collector = new OtlpCollector(app);
            app.MapPost("/v1/traces", async (HttpContext http) =>
            {
                using var buffer = new MemoryStream();
                await http.Request.Body.CopyToAsync(buffer);
                collector.Bodies.Enqueue(buffer.ToArray());
                http.Response.ContentType = "application/x-protobuf";
                return Results.Ok();
            });
            await app.StartAsync();
            return collector;
        }

        public async Task WaitForAsync(Func<byte[], bool> match, string what, TimeSpan timeout)
        {
            var clock = Stopwatch.StartNew();
            while (!Bodies.Any(match))
            {
                if (clock.Elapsed > timeout) Assert.Fail($"No export with {what} within {timeout.TotalSeconds} s ({Bodies.Count} export(s) received).");
                await Task.Delay(100);
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
