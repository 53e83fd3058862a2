using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Monolith.Tests.Features.HttpRequests;

/// <summary>
/// A real vendor: Kestrel on 127.0.0.1 and a port the system picks. It records every request it gets (method, path,
/// headers, body, time) and answers through the test's <c>answer</c>, which is told how many calls came before.
/// </summary>
public sealed class VendorServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<VendorRequest> _received = new();

    private VendorServer(WebApplication app) => _app = app;

    public Uri BaseUrl { get; private set; } = null!;

    public IReadOnlyList<VendorRequest> Received => _received.ToArray();

    public string Url(string path) => new Uri(BaseUrl, path).ToString();

    /// <param name="answer">Writes the answer to a request; the int is its number (1 for the first call).</param>
    public static async Task<VendorServer> StartAsync(Func<HttpContext, int, Task> answer)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new VendorServer(app);
        var calls = 0;
        app.Run(async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync();
            server._received.Enqueue(new VendorRequest(
                context.Request.Method,
                context.Request.Path + context.Request.QueryString,
                context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
                body,
                DateTimeOffset.UtcNow));
            await answer(context, Interlocked.Increment(ref calls));
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        server.BaseUrl = new Uri(address.Replace("[::]", "127.0.0.1"));
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

public sealed record VendorRequest(string Method, string PathAndQuery, Dictionary<string, string> Headers, string Body, DateTimeOffset At);
