using System.Text.Json;
using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Features.Webhooks;

/// <summary>
/// A webhook receiver: a route (<c>POST /hooks</c>) on a <see cref="LoopbackServer"/> that answers each delivery as
/// <see cref="Answer"/> decides (200 unless told otherwise); <see cref="Requests"/> shows each answered delivery's body
/// as received, its signature and event id. Other paths on <see cref="Server"/> answer 201 (a marker a test may send to).
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private const string Path = "/hooks";
    private int _count;

    private WebhookReceiver(LoopbackServer server)
    {
        Server = server;
        server.Handle("POST", Path, http =>
        {
            http.Response.StatusCode = Answer(Interlocked.Increment(ref _count));
            return Task.CompletedTask;
        });
    }

    /// <summary>The server the route is on (its faults and waits are there too).</summary>
    public LoopbackServer Server { get; }

    /// <summary>The status for the n-th delivery (1-based); 200 by default.</summary>
    public Func<int, int> Answer { get; set; } = _ => 200;

    public string Url => Server.Url(Path);

    /// <summary>The deliveries answered so far, in arrival order.</summary>
    public IReadOnlyList<Received> Requests =>
        Server.Requests.Where(r => r.Path == Path && r.Status is not null)
            .Select(r => new Received(r.Body, r.Header("Monolith-Signature"), r.Header("Monolith-Event-Id"), r.Headers.GetValueOrDefault("Content-Type"), r.Status!.Value))
            .ToList();

    public static async Task<WebhookReceiver> StartAsync() => new(await LoopbackServer.StartAsync());

    /// <summary>Waits until at least <paramref name="count"/> deliveries were answered with a 2xx.</summary>
    public async Task<List<Received>> WaitForDeliveredAsync(int count, TimeSpan timeout)
    {
        await Server.WaitForAsync(r => r.Path == Path && r.Status is >= 200 and < 300, timeout, count, "webhook(s) delivered");
        return Delivered();
    }

    public List<Received> Delivered() => Requests.Where(r => r.Status is >= 200 and < 300).ToList();

    public ValueTask DisposeAsync() => Server.DisposeAsync();

    public sealed record Received(string Body, string Signature, string EventId, string? ContentType, int Status)
    {
        public JsonElement Json => JsonDocument.Parse(Body).RootElement;
    }
}
