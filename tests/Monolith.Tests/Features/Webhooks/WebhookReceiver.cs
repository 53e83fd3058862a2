using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Monolith.Tests.Features.Webhooks;

/// <summary>
/// A real HTTP server (Kestrel) on 127.0.0.1 that records every POST it gets: body as received and the signature
/// header. <see cref="Answer"/> decides the status of each request (200 unless told otherwise).
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    public ConcurrentQueue<Received> Requests { get; } = new();

    /// <summary>The status for the n-th request (1-based); 200 by default.</summary>
    public Func<int, int> Answer { get; set; } = _ => 200;

    public int Port { get; }
    public string Url => $"http://127.0.0.1:{Port}/hooks";

    private WebhookReceiver(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    /// <summary>Starts a receiver on <paramref name="port"/> (0: any free port).</summary>
    public static async Task<WebhookReceiver> StartAsync(int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        WebhookReceiver? receiver = null;
        var count = 0;
        app.MapPost("/hooks", async (HttpContext http) =>
        {
            using var reader = new StreamReader(http.Request.Body);
            var body = await reader.ReadToEndAsync();
            var n = Interlocked.Increment(ref count);
            var status = receiver!.Answer(n);
            receiver.Requests.Enqueue(new Received(body, http.Request.Headers["Monolith-Signature"].ToString(),
                http.Request.Headers["Monolith-Event-Id"].ToString(), http.Request.ContentType, status));
            return Results.StatusCode(status);
        });
        await app.StartAsync();
        var bound = new Uri(app.Urls.First()).Port;
        receiver = new WebhookReceiver(app, bound);
        return receiver;
    }

    /// <summary>A port nothing listens on now (taken from the OS, then released).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Waits until at least <paramref name="count"/> requests were answered with a 2xx.</summary>
    public async Task<List<Received>> WaitForDeliveredAsync(int count, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var delivered = Delivered();
            if (delivered.Count >= count) return delivered;
            if (clock.Elapsed > timeout) Assert.Fail($"{delivered.Count} of {count} webhook(s) delivered within {timeout.TotalSeconds} s ({Requests.Count} request(s) in all).");
            await Task.Delay(50);
        }
    }

    public List<Received> Delivered() => Requests.Where(r => r.Status is >= 200 and < 300).ToList();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    public sealed record Received(string Body, string Signature, string EventId, string? ContentType, int Status)
    {
        public JsonElement Json => JsonDocument.Parse(Body).RootElement;
    }
}
