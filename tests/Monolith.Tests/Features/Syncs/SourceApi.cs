using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Features.Syncs;

/// <summary>
/// A real external JSON API for syncs to read: routes on a <see cref="LoopbackServer"/> serving <see cref="Count"/>
/// records (ids <c>r0001</c>…) in pages of <see cref="PageSize"/>, in four paging styles; any other path is 404. The
/// server records every request, so tests can assert on what the sync actually asked for (<see cref="Requests"/>).
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
    private static readonly string[] Styles = ["page", "cursor", "link", "link-body"];
    private readonly object _gate = new();
    private readonly List<JsonObject> _records;

    private SourceApi(LoopbackServer server, int count, int pageSize)
    {
        Server = server;
        PageSize = pageSize;
        _records = Enumerable.Range(1, count).Select(MakeRecord).ToList();
        foreach (var style in Styles) server.Handle("GET", "/" + style, http => ServeAsync(http, style));
        server.Fallback = (http, _) =>
        {
            http.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        };
    }

    /// <summary>The server the routes are on (its own faults and waits are there too).</summary>
    public LoopbackServer Server { get; }

    public int PageSize { get; }
    public int Count { get { lock (_gate) return _records.Count; } }
    public int Pages => (Count + PageSize - 1) / PageSize;
    public string BaseUrl => Server.BaseUrl;

    /// <summary>How long each answer waits before it is sent.</summary>
    public TimeSpan Delay
    {
        get => Server.Delay;
        set => Server.Delay = value;
    }

    /// <summary>Where <c>/link-body</c>'s next links point (default: this server's own origin).</summary>
    public string? NextLinkOrigin { get; set; }

    /// <summary>Every request for a page, in arrival order.</summary>
    public IReadOnlyList<SourceRequest> Requests =>
        Server.Requests.Select(r => (Request: r, Style: StyleOf(r))).Where(x => x.Style is not null)
            .Select(x => new SourceRequest(x.Request.At - Server.StartedAt, x.Request.At, x.Style!, PageOf(x.Request), x.Request.Status ?? 0, x.Request.Header("Authorization")))
            .ToList();

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
    public void FailNext(int page, int status, int times = 1, int? retryAfterSeconds = null) =>
        Server.FailNext(status, times, when: r => StyleOf(r) is not null && PageOf(r) == page,
            headers: retryAfterSeconds is { } seconds ? new Dictionary<string, string> { ["Retry-After"] = seconds.ToString(CultureInfo.InvariantCulture) } : null,
            json: new { error = "planned failure" });

    /// <summary>Requests of one style, in order.</summary>
    public List<SourceRequest> RequestsTo(string style) => Requests.Where(r => r.Style == style).ToList();

    public static async Task<SourceApi> StartAsync(int count, int pageSize) => new(await LoopbackServer.StartAsync(), count, pageSize);

    private static string? StyleOf(ReceivedRequest request)
    {
        var path = request.Path.Split('?')[0].TrimStart('/');
        return request.Method == "GET" && Styles.Contains(path) ? path : null;
    }

    /// <summary>The page a request asks for: its <c>page</c> parameter, or its cursor (<c>p7</c> → 7); 1 when none.</summary>
    private static int PageOf(ReceivedRequest request) => PageOf(StyleOf(request), request.Query);

    private static int PageOf(string? style, IReadOnlyDictionary<string, string> query) => style == "cursor"
        ? query.GetValueOrDefault("cursor") is { Length: > 0 } c ? int.Parse(c[1..], CultureInfo.InvariantCulture) : 1
        : int.TryParse(query.GetValueOrDefault("page"), CultureInfo.InvariantCulture, out var p) ? p : 1;

    private async Task ServeAsync(HttpContext http, string style)
    {
        var page = PageOf(style, http.Request.Query.ToDictionary(q => q.Key, q => q.Value.ToString()));
        var size = int.TryParse(http.Request.Query["size"], CultureInfo.InvariantCulture, out var s) ? s : PageSize;

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

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}

/// <summary>One request for a page: when (since the source started, and wall clock), which paging style, which page, the status it answered (0: not yet).</summary>
public sealed record SourceRequest(TimeSpan At, DateTimeOffset WallClock, string Style, int Page, int Status, string Authorization);
