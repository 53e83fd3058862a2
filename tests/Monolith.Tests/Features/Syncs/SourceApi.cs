using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Monolith.Tests.Features.Syncs;

/// <summary>
/// A real external JSON API for syncs to read: Kestrel on 127.0.0.1, port 0, serving <see cref="Count"/> records
/// (ids <c>r0001</c>…) in pages of <see cref="PageSize"/>, in four paging styles, and logging every request it
/// gets (time, style, page) so tests can assert on what the sync actually asked for.
/// <list type="bullet">
/// <item><c>GET /page?page=N[&amp;size=S]</c> → <c>{"items": [...], "meta": {"totalPages": T, "total": R}}</c> (pages from 1; past the end an empty page)</item>
/// <item><c>GET /cursor[?cursor=C]</c> → <c>{"data": {"items": [...]}, "paging": {"next": C' or null}}</c> (C: an opaque token)</item>
/// <item><c>GET /link[?page=N]</c> → <c>{"results": [...]}</c> with <c>Link: &lt;/link?page=N+1&gt;; rel="next"</c> (relative) until the last page</item>
/// <item><c>GET /link-body[?page=N]</c> → <c>{"results": [...], "links": {"next": "http://127.0.0.1:port/link-body?page=N+1" or null}}</c></item>
/// </list>
/// Failures can be planned per page (<see cref="FailNext"/>) and every answer delayed (<see cref="Delay"/>).
/// </summary>
public sealed class SourceApi : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<int, ConcurrentQueue<(int Status, int? RetryAfterSeconds)>> _failures = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly object _gate = new();
    private List<JsonObject> _records;

    private SourceApi(WebApplication app, int count, int pageSize)
    {
        _app = app;
        PageSize = pageSize;
        _records = Enumerable.Range(1, count).Select(MakeRecord).ToList();
    }

    public int PageSize { get; }
    public int Count { get { lock (_gate) return _records.Count; } }
    public int Pages => (Count + PageSize - 1) / PageSize;
    public string BaseUrl { get; private set; } = "";

    /// <summary>How long each answer waits before it is sent.</summary>
    public TimeSpan Delay { get; set; }

    /// <summary>Where <c>/link-body</c>'s next links point (default: this server's own origin).</summary>
    public string? NextLinkOrigin { get; set; }

    /// <summary>Every request served, in arrival order.</summary>
    public ConcurrentQueue<SourceRequest> Requests { get; } = new();

    public static string IdOf(int n) => $"r{n:D4}";

    public static JsonObject MakeRecord(int n) => new()
    {
        ["id"] = IdOf(n),
        ["name"] = $"Record {n}",
        ["n"] = n,
        ["status"] = n % 3 == 0 ? "active" : "idle",
        ["modified"] = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero).AddMinutes(n).ToString("O", CultureInfo.InvariantCulture),
    };

    /// <summary>The records as the source holds them now.</summary>
    public IReadOnlyList<JsonObject> Records()
    {
        lock (_gate) return _records.Select(r => (JsonObject)r.DeepClone()).ToList();
    }

    /// <summary>Changes the records (an update at the source between two syncs).</summary>
    public void Change(Action<List<JsonObject>> change)
    {
        lock (_gate) change(_records);
    }

    /// <summary>The next answers for page <paramref name="page"/> (1-based, any style) are these statuses, then normal ones.</summary>
    public void FailNext(int page, int status, int times = 1, int? retryAfterSeconds = null)
    {
        var queue = _failures.GetOrAdd(page, _ => new ConcurrentQueue<(int, int?)>());
        for (var i = 0; i < times; i++) queue.Enqueue((status, retryAfterSeconds));
    }

    /// <summary>Forgets planned failures not yet served.</summary>
    public void ClearFailures() => _failures.Clear();

    /// <summary>Requests of one style, in order.</summary>
    public List<SourceRequest> RequestsTo(string style) => Requests.Where(r => r.Style == style).ToList();

    public static async Task<SourceApi> StartAsync(int count, int pageSize)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var source = new SourceApi(app, count, pageSize);
        app.MapGet("/page", (HttpContext http) => source.ServeAsync(http, "page"));
        app.MapGet("/cursor", (HttpContext http) => source.ServeAsync(http, "cursor"));
        app.MapGet("/link", (HttpContext http) => source.ServeAsync(http, "link"));
        app.MapGet("/link-body", (HttpContext http) => source.ServeAsync(http, "link-body"));
        await app.StartAsync();
        source.BaseUrl = app.Urls.Single().TrimEnd('/');
        return source;
    }

    private async Task ServeAsync(HttpContext http, string style)
    {
        var query = http.Request.Query;
        var page = style switch
        {
            "cursor" => query["cursor"].ToString() is { Length: > 0 } c ? int.Parse(c[1..], CultureInfo.InvariantCulture) : 1, // "p7" → 7
            _ => int.TryParse(query["page"], CultureInfo.InvariantCulture, out var p) ? p : 1,
        };
        var size = int.TryParse(query["size"], CultureInfo.InvariantCulture, out var s) ? s : PageSize;
        var status = 200;
        int? retryAfter = null;
        if (_failures.TryGetValue(page, out var planned) && planned.TryDequeue(out var failure)) (status, retryAfter) = failure;
        Requests.Enqueue(new SourceRequest(_clock.Elapsed, DateTimeOffset.UtcNow, style, page, status, http.Request.Headers.Authorization.ToString()));

        if (Delay > TimeSpan.Zero) await Task.Delay(Delay);
        if (status != 200)
        {
            http.Response.StatusCode = status;
            if (retryAfter is { } seconds) http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            await http.Response.WriteAsJsonAsync(new { error = "planned failure" });
            return;
        }

        List<JsonObject> records;
        int total;
        lock (_gate)
        {
            total = _records.Count;
            records = _records.Skip((page - 1) * size).Take(size).Select(r => (JsonObject)r.DeepClone()).ToList();
        }
        var pages = (total + size - 1) / size;
        var hasNext = page < pages;
        var items = new JsonArray(records.Cast<JsonNode>().ToArray());
        JsonObject body = style switch
        {
            "page" => new JsonObject { ["items"] = items, ["meta"] = new JsonObject { ["totalPages"] = pages, ["total"] = total } },
            "cursor" => new JsonObject { ["data"] = new JsonObject { ["items"] = items }, ["paging"] = new JsonObject { ["next"] = hasNext ? $"p{page + 1}" : null } },
            "link" => new JsonObject { ["results"] = items },
            _ => new JsonObject { ["results"] = items, ["links"] = new JsonObject { ["next"] = hasNext ? $"{NextLinkOrigin ?? BaseUrl}/link-body?page={page + 1}" : null } },
        };
        if (style == "link" && hasNext) http.Response.Headers.Append("Link", $"</link?page={page + 1}>; rel=\"next\", </link?page=1>; rel=\"first\"");
        await http.Response.WriteAsJsonAsync(body);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>One request the source served: when (since the source started, and wall clock), which paging style, which page, the status it answered.</summary>
public sealed record SourceRequest(TimeSpan At, DateTimeOffset WallClock, string Style, int Page, int Status, string Authorization);
