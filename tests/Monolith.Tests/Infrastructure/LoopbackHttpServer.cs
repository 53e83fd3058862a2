using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;

namespace Monolith.Tests.Infrastructure;

/// <summary>
/// A real HTTP server (Kestrel) on 127.0.0.1 and a free port, started by a test to play a destination or a source.
/// It records every request it receives (method, path, headers, the body's length and SHA-256, whether the body
/// arrived whole, a multipart body's fields and file) and answers as scripted: <see cref="Enqueue"/> answers are
/// used first, in order; then <see cref="Handle"/> handlers by path; then 201 with a Location. A body whose
/// <c>Content-Digest</c> does not match what arrived is answered 400, as RFC 9530 receivers do. Bodies can be read
/// slowly (<see cref="BytesPerSecond"/>) so that a test can act while one is in flight.
/// </summary>
public sealed class LoopbackHttpServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ScriptedAnswer> _script = new();
    private readonly ConcurrentDictionary<string, Func<HttpContext, Task>> _handlers = new();
    private readonly List<ReceivedRequest> _requests = [];

    private LoopbackHttpServer(WebApplication app)
    {
        _app = app;
        app.Run(HandleAsync);
    }

    public string BaseUrl { get; private set; } = "";

    /// <summary>When set, request bodies are read at about this rate.</summary>
    public long? BytesPerSecond { get; set; }

    /// <summary>Every request so far, in arrival order (a body still arriving is added when it ends).</summary>
    public IReadOnlyList<ReceivedRequest> Requests
    {
        get { lock (_requests) return _requests.ToList(); }
    }

    /// <summary>Requests whose body arrived whole and was answered 2xx.</summary>
    public IReadOnlyList<ReceivedRequest> Accepted => Requests.Where(r => r.Complete && r.Status is >= 200 and < 300).ToList();

    public static async Task<LoopbackHttpServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Limits.MaxRequestBodySize = null).UseUrls("http://127.0.0.1:0");
        var server = new LoopbackHttpServer(builder.Build());
        await server._app.StartAsync();
        server.BaseUrl = server._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return server;
    }

    public string Url(string path) => BaseUrl + path;

    /// <summary>The next request (whatever its path) gets this answer; its body is read first unless told.</summary>
    public void Enqueue(int status, Dictionary<string, string>? headers = null, bool readBody = true) =>
        _script.Enqueue(new ScriptedAnswer(status, headers ?? [], readBody));

    /// <summary>Requests to <paramref name="path"/> are answered by <paramref name="handler"/> (after scripted answers); still recorded.</summary>
    public void Handle(string path, Func<HttpContext, Task> handler) => _handlers[path] = handler;

    /// <summary>Serves <paramref name="content"/> at <paramref name="path"/> (GET), with an ETag of its hash unless told.</summary>
    public void Serve(string path, byte[] content, string contentType = "application/pdf", string? requiredAuthorization = null, bool etag = true) =>
        Handle(path, async http =>
        {
            if (requiredAuthorization is not null && http.Request.Headers.Authorization != requiredAuthorization)
            {
                http.Response.StatusCode = 401;
                return;
            }
            http.Response.ContentType = contentType;
            http.Response.ContentLength = content.Length;
            if (etag) http.Response.Headers.ETag = $"\"{Convert.ToHexStringLower(SHA256.HashData(content))[..16]}\"";
            await http.Response.Body.WriteAsync(content);
        });

    private async Task HandleAsync(HttpContext http)
    {
        var request = new ReceivedRequest
        {
            Method = http.Request.Method,
            Path = http.Request.Path + http.Request.QueryString,
            Headers = http.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
            At = DateTimeOffset.UtcNow,
        };
        try
        {
            _script.TryDequeue(out var scripted);
            if (scripted is null && _handlers.TryGetValue(http.Request.Path, out var handler))
            {
                request.Complete = true;
                await handler(http);
                request.Status = http.Response.StatusCode;
                return;
            }
            if (scripted is null || scripted.ReadBody) await ReadBodyAsync(http, request);
            var status = scripted?.Status ?? 201;
            if (request.DigestMatches == false) status = 400;
            http.Response.StatusCode = status;
            foreach (var (name, value) in scripted?.Headers ?? []) http.Response.Headers[name] = value;
            if (scripted is null && status == 201) http.Response.Headers.Location = $"/stored/{request.Sha256}";
            request.Status = status;
        }
        catch (Exception ex) when (ex is IOException or BadHttpRequestException or OperationCanceledException or InvalidDataException)
        {
            request.Complete = false; // the sender went away mid-body
            request.Status = null;
        }
        finally
        {
            lock (_requests) _requests.Add(request);
        }
    }

    private async Task ReadBodyAsync(HttpContext http, ReceivedRequest request)
    {
        var body = http.Request.Body;
        if (MediaTypeHeaderValue.TryParse(http.Request.ContentType, out var type)
            && type.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            var reader = new MultipartReader(HeaderUtilities.RemoveQuotes(type.Boundary).Value!, body);
            while (await reader.ReadNextSectionAsync(http.RequestAborted) is { } section)
            {
                ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition);
                var name = HeaderUtilities.RemoveQuotes(disposition!.Name).Value!;
                if (disposition.IsFileDisposition())
                {
                    var (length, sha) = await HashAsync(section.Body, null, http.RequestAborted);
                    request.File = new ReceivedFile(name, HeaderUtilities.RemoveQuotes(disposition.FileName).Value ?? "", section.ContentType, length, sha);
                }
                else
                {
                    request.Form[name] = await new StreamReader(section.Body).ReadToEndAsync(http.RequestAborted);
                }
            }
            request.Complete = true;
            return;
        }
        (request.Length, request.Sha256) = await HashAsync(body, n => request.Length = n, http.RequestAborted);
        request.Complete = http.Request.ContentLength is not { } declared || declared == request.Length;
        if (request.Headers.TryGetValue("Content-Digest", out var digest) && digest.StartsWith("sha-256=:", StringComparison.Ordinal))
        {
            request.DigestMatches = Convert.ToHexStringLower(Convert.FromBase64String(digest[9..^1])) == request.Sha256;
        }
    }

    /// <param name="progress">Told the bytes read so far (so an incomplete body's length is known).</param>
    private async Task<(long Length, string Sha256)> HashAsync(Stream body, Action<long>? progress, CancellationToken ct)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[64 * 1024];
        long total = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int read;
        while ((read = await body.ReadAsync(buffer, ct)) > 0)
        {
            hash.AppendData(buffer, 0, read);
            total += read;
            progress?.Invoke(total);
            if (BytesPerSecond is { } rate)
            {
                var due = TimeSpan.FromSeconds((double)total / rate) - clock.Elapsed;
                if (due > TimeSpan.Zero) await Task.Delay(due, ct);
            }
        }
        return (total, Convert.ToHexStringLower(hash.GetHashAndReset()));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private sealed record ScriptedAnswer(int Status, Dictionary<string, string> Headers, bool ReadBody);
}

/// <summary>One request as the server saw it.</summary>
public sealed class ReceivedRequest
{
    public string Method { get; init; } = "";
    public string Path { get; init; } = "";
    public Dictionary<string, string> Headers { get; init; } = [];
    public DateTimeOffset At { get; init; }
    public long Length { get; set; }
    public string? Sha256 { get; set; }

    /// <summary>The whole body arrived (as long as its Content-Length, or a multipart body to its end).</summary>
    public bool Complete { get; set; }

    /// <summary>Whether the Content-Digest header matched the body (null: none sent).</summary>
    public bool? DigestMatches { get; set; }

    public Dictionary<string, string> Form { get; } = [];
    public ReceivedFile? File { get; set; }

    /// <summary>The status answered (null: the body never arrived whole).</summary>
    public int? Status { get; set; }

    public string? IdempotencyKey => Headers.GetValueOrDefault("Idempotency-Key");
}

/// <summary>The file part of a multipart body.</summary>
public sealed record ReceivedFile(string Field, string FileName, string? ContentType, long Length, string Sha256);
