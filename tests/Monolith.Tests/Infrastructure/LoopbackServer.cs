using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
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
/// The tests' one HTTP server: Kestrel on 127.0.0.1, bound to port 0 (the port it got is read back from the server,
/// so nothing probes for a free port and binds later). A test makes it play a destination, a source, a vendor or a
/// webhook receiver:
/// <list type="bullet">
/// <item>Answers: planned faults first (<see cref="FailNext"/>, <see cref="DropNext"/>: a status, or a dropped
/// connection, for the next N matching requests, then normal answers); then routes (<see cref="Handle(string, string, Func{HttpContext, Task})"/>,
/// <see cref="Serve"/>) by method and path; then <see cref="Fallback"/>, which by default stores what it gets and answers
/// 201 with a Location (400 when a <c>Content-Digest</c> does not match the body, as RFC 9530 receivers do).</item>
/// <item>Every request is recorded when it arrives (<see cref="Requests"/>: method, path, query, headers) and completed
/// when it is answered (body, status); <see cref="WaitForAsync"/> waits for requests matching a condition.</item>
/// <item>Every answer can be delayed (<see cref="Delay"/>) and bodies read slowly (<see cref="BytesPerSecond"/>), so that
/// a test can act while a request is in flight.</item>
/// </list>
/// Feature helpers (<c>SourceApi</c>, <c>WebhookReceiver</c>) are routes on top of this server.
/// </summary>
public sealed class LoopbackServer : IAsyncDisposable
{
    /// <summary>Bodies up to this size are kept whole (<see cref="ReceivedRequest.BodyBytes"/>); longer ones are only hashed.</summary>
    public const int KeptBodyLimit = 1 << 20;

    private readonly WebApplication _app;
    private readonly Dictionary<(string Method, string Path), Func<HttpContext, Task>> _routes = [];
    private readonly List<PlannedFault> _faults = [];
    private readonly List<ReceivedRequest> _requests = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _calls;

    private LoopbackServer(WebApplication app)
    {
        _app = app;
        app.Run(HandleAsync);
    }

    /// <summary><c>http://127.0.0.1:port</c>, without a trailing slash.</summary>
    public string BaseUrl { get; private set; } = "";

    public int Port => new Uri(BaseUrl).Port;

    /// <summary>When the server started listening (request times can be told relative to it).</summary>
    public DateTimeOffset StartedAt { get; private set; }

    /// <summary>When set, request bodies are read at about this rate.</summary>
    public long? BytesPerSecond { get; set; }

    /// <summary>How long each answer waits (after the body is read) before it is sent; a dropped request stops waiting.</summary>
    public TimeSpan Delay { get; set; }

    /// <summary>
    /// Answers requests no fault and no route took; told the request's number (1 for the first request the server got).
    /// Null (the default): store — 201 with <c>Location: /stored/{sha256}</c>, 400 if the body's Content-Digest does not match.
    /// </summary>
    public Func<HttpContext, int, Task>? Fallback { get; set; }

    /// <summary>Every request so far, in arrival order (one still in flight has no <see cref="ReceivedRequest.Status"/> yet).</summary>
    public IReadOnlyList<ReceivedRequest> Requests
    {
        get { lock (_requests) return _requests.ToList(); }
    }

    /// <summary>Requests whose body arrived whole and was answered 2xx.</summary>
    public IReadOnlyList<ReceivedRequest> Accepted => Requests.Where(r => r.Complete && r.Status is >= 200 and < 300).ToList();

    /// <summary>Starts a server; <paramref name="fallback"/> (see <see cref="Fallback"/>) answers what no route takes.</summary>
    public static async Task<LoopbackServer> StartAsync(Func<HttpContext, int, Task>? fallback = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Limits.MaxRequestBodySize = null).UseUrls("http://127.0.0.1:0");
        var server = new LoopbackServer(builder.Build()) { Fallback = fallback };
        await server._app.StartAsync();
        server.BaseUrl = server._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single().TrimEnd('/');
        server.StartedAt = DateTimeOffset.UtcNow;
        return server;
    }

    public string Url(string path) => BaseUrl + path;

    /// <summary>Requests with <paramref name="method"/> (any method: <c>*</c>) to <paramref name="path"/> are answered by <paramref name="handler"/>; a later call for the same route replaces it.</summary>
    public void Handle(string method, string path, Func<HttpContext, Task> handler)
    {
        lock (_routes) _routes[(method.ToUpperInvariant(), path)] = handler;
    }

    /// <summary>Requests to <paramref name="path"/>, whatever their method, are answered by <paramref name="handler"/>.</summary>
    public void Handle(string path, Func<HttpContext, Task> handler) => Handle("*", path, handler);

    /// <summary>Serves <paramref name="content"/> at <paramref name="path"/>, with an ETag of its hash unless told; 401 without <paramref name="requiredAuthorization"/> when one is given.</summary>
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

    /// <summary>
    /// The next <paramref name="times"/> requests matching <paramref name="when"/> (any request: null) are answered
    /// <paramref name="status"/> with <paramref name="headers"/> and, when given, <paramref name="json"/> as the body; then
    /// normal answers resume. Faults are taken in the order they were planned. The body is read first unless told.
    /// </summary>
    public void FailNext(int status, int times = 1, Func<ReceivedRequest, bool>? when = null,
        IReadOnlyDictionary<string, string>? headers = null, object? json = null, bool readBody = true) =>
        Plan(new PlannedFault(when, times, status, headers, json, Drop: false, readBody));

    /// <summary>The next <paramref name="times"/> requests matching <paramref name="when"/> have their connection dropped before any answer (the caller sees a network error).</summary>
    public void DropNext(int times = 1, Func<ReceivedRequest, bool>? when = null) =>
        Plan(new PlannedFault(when, times, 0, null, null, Drop: true, ReadBody: false));

    /// <summary>Forgets planned faults not yet used.</summary>
    public void ClearFaults()
    {
        lock (_faults) _faults.Clear();
    }

    /// <summary>
    /// Waits until at least <paramref name="count"/> recorded requests match <paramref name="match"/> (checked again each
    /// time a request arrives or is answered), and returns the matching ones; fails the test after <paramref name="timeout"/>.
    /// </summary>
    public async Task<IReadOnlyList<ReceivedRequest>> WaitForAsync(Func<ReceivedRequest, bool> match, TimeSpan timeout, int count = 1, string what = "request(s)")
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            Task changed;
            List<ReceivedRequest> all;
            lock (_requests)
            {
                changed = _changed.Task;
                all = _requests.ToList();
            }
            var matching = all.Where(match).ToList();
            if (matching.Count >= count) return matching;
            var left = timeout - clock.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                Assert.Fail($"{matching.Count} of {count} {what} within {timeout.TotalSeconds} s; the server got: " +
                            string.Join(", ", all.Select(r => $"{r.Method} {r.Path} → {r.Status?.ToString() ?? "no answer"}")));
            }
            await Task.WhenAny(changed, Task.Delay(left));
        }
    }

    private void Plan(PlannedFault fault)
    {
        lock (_faults) _faults.Add(fault);
    }

    private PlannedFault? TakeFault(ReceivedRequest request)
    {
        lock (_faults)
        {
            var fault = _faults.FirstOrDefault(f => f.Left > 0 && (f.When is null || f.When(request)));
            if (fault is null) return null;
            fault.Left--;
            return fault;
        }
    }

    private Func<HttpContext, Task>? RouteOf(HttpRequest request)
    {
        lock (_routes)
        {
            return _routes.GetValueOrDefault((request.Method.ToUpperInvariant(), request.Path.Value ?? ""))
                   ?? _routes.GetValueOrDefault(("*", request.Path.Value ?? ""));
        }
    }

    private void Changed()
    {
        TaskCompletionSource changed;
        lock (_requests)
        {
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        changed.TrySetResult();
    }

    private async Task HandleAsync(HttpContext http)
    {
        var request = new ReceivedRequest
        {
            Number = Interlocked.Increment(ref _calls),
            Method = http.Request.Method,
            Path = http.Request.Path + http.Request.QueryString,
            Query = http.Request.Query.ToDictionary(q => q.Key, q => q.Value.ToString()),
            Headers = http.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
            At = DateTimeOffset.UtcNow,
        };
        lock (_requests) _requests.Add(request);
        Changed();
        try
        {
            var fault = TakeFault(request);
            if (fault is { Drop: true })
            {
                http.Abort();
                return;
            }
            if (fault is null || fault.ReadBody) await ReadBodyAsync(http, request);
            if (Delay > TimeSpan.Zero) await Task.Delay(Delay, http.RequestAborted);
            if (fault is not null)
            {
                http.Response.StatusCode = request.DigestMatches == false ? 400 : fault.Status;
                foreach (var (name, value) in fault.Headers ?? new Dictionary<string, string>()) http.Response.Headers[name] = value;
                if (fault.Json is not null) await http.Response.WriteAsJsonAsync(fault.Json);
            }
            else if (RouteOf(http.Request) is { } route)
            {
                await route(http);
            }
            else if (Fallback is { } fallback)
            {
                await fallback(http, request.Number);
            }
            else
            {
                http.Response.StatusCode = request.DigestMatches == false ? 400 : 201;
                if (http.Response.StatusCode == 201) http.Response.Headers.Location = $"/stored/{request.Sha256}";
            }
            request.Status = http.Response.StatusCode;
        }
        catch (Exception ex) when (ex is IOException or BadHttpRequestException or OperationCanceledException or InvalidDataException)
        {
            request.Complete = false; // the sender went away mid-body, or the request was dropped
            request.Status = null;
        }
        finally
        {
            Changed();
        }
    }

    /// <summary>Reads the body (multipart: its fields and file), hashing it and keeping it when short; a handler then reads the kept copy.</summary>
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
                    var (length, sha, _) = await HashAsync(section.Body, null, http.RequestAborted);
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
        (request.Length, request.Sha256, request.BodyBytes) = await HashAsync(body, n => request.Length = n, http.RequestAborted);
        request.Complete = http.Request.ContentLength is not { } declared || declared == request.Length;
        if (request.BodyBytes is { } kept) http.Request.Body = new MemoryStream(kept, writable: false);
        if (request.Headers.TryGetValue("Content-Digest", out var digest) && digest.StartsWith("sha-256=:", StringComparison.Ordinal))
        {
            request.DigestMatches = Convert.ToHexStringLower(Convert.FromBase64String(digest[9..^1])) == request.Sha256;
        }
    }

    /// <param name="progress">Told the bytes read so far (so an incomplete body's length is known).</param>
    /// <returns>The length, the SHA-256 and the bytes themselves when no more than <see cref="KeptBodyLimit"/>.</returns>
    private async Task<(long Length, string Sha256, byte[]? Kept)> HashAsync(Stream body, Action<long>? progress, CancellationToken ct)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var kept = new MemoryStream();
        var buffer = new byte[64 * 1024];
        long total = 0;
        var clock = Stopwatch.StartNew();
        int read;
        while ((read = await body.ReadAsync(buffer, ct)) > 0)
        {
            hash.AppendData(buffer, 0, read);
            total += read;
            if (total <= KeptBodyLimit) kept.Write(buffer, 0, read);
            progress?.Invoke(total);
            if (BytesPerSecond is { } rate)
            {
                var due = TimeSpan.FromSeconds((double)total / rate) - clock.Elapsed;
                if (due > TimeSpan.Zero) await Task.Delay(due, ct);
            }
        }
        return (total, Convert.ToHexStringLower(hash.GetHashAndReset()), total <= KeptBodyLimit ? kept.ToArray() : null);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private sealed record PlannedFault(Func<ReceivedRequest, bool>? When, int Times, int Status, IReadOnlyDictionary<string, string>? Headers, object? Json, bool Drop, bool ReadBody)
    {
        public int Left { get; set; } = Times;
    }
}

/// <summary>One request as the server saw it: recorded when it arrived, completed when it was answered.</summary>
public sealed class ReceivedRequest
{
    /// <summary>1 for the first request the server got, and so on.</summary>
    public int Number { get; init; }

    public string Method { get; init; } = "";

    /// <summary>The path and query string as sent (<c>/page?page=2</c>).</summary>
    public string Path { get; init; } = "";

    /// <summary>The query string's parameters (a repeated one: its values joined by commas).</summary>
    public IReadOnlyDictionary<string, string> Query { get; init; } = new Dictionary<string, string>();

    public Dictionary<string, string> Headers { get; init; } = [];
    public DateTimeOffset At { get; init; }
    public long Length { get; set; }
    public string? Sha256 { get; set; }

    /// <summary>The body's bytes (null: not read, multipart, or longer than <see cref="LoopbackServer.KeptBodyLimit"/>).</summary>
    public byte[]? BodyBytes { get; set; }

    /// <summary>The body as UTF-8 text ("" when it was not kept).</summary>
    public string Body => BodyBytes is null ? "" : Encoding.UTF8.GetString(BodyBytes);

    /// <summary>The body as JSON.</summary>
    public JsonElement Json => JsonDocument.Parse(BodyBytes ?? []).RootElement;

    /// <summary>The whole body arrived (as long as its Content-Length, or a multipart body to its end).</summary>
    public bool Complete { get; set; }

    /// <summary>Whether the Content-Digest header matched the body (null: none sent).</summary>
    public bool? DigestMatches { get; set; }

    public Dictionary<string, string> Form { get; } = [];
    public ReceivedFile? File { get; set; }

    /// <summary>The status answered (null: not answered yet, the body never arrived whole, or the connection was dropped).</summary>
    public int? Status { get; set; }

    public string? IdempotencyKey => Headers.GetValueOrDefault("Idempotency-Key");

    /// <summary>A header's value ("" when absent).</summary>
    public string Header(string name) => Headers.GetValueOrDefault(name) ?? "";
}

/// <summary>The file part of a multipart body.</summary>
public sealed record ReceivedFile(string Field, string FileName, string? ContentType, long Length, string Sha256);
