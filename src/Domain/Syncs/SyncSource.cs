using System.Text.Json;

namespace Monolith.Domain.Syncs;

/// <summary>
/// Where a sync reads records and how: stored as jsonb on the sync (<see cref="Sync.Source"/>) with every header
/// value encrypted by <c>SecretProtector</c> under <see cref="HeaderPurpose"/>; header names stay readable.
/// </summary>
/// <param name="Url">The first page's URL (http or https).</param>
/// <param name="Headers">Sent with every request (an <c>Authorization</c> header, an API key). Values encrypted at rest, never shown.</param>
/// <param name="Pagination">How to get from one page to the next.</param>
/// <param name="ItemsPath">Dotted path to the array of records in a page's body (<c>data.items</c>); empty when the body is the array.</param>
/// <param name="IdPath">Dotted path, inside one record, to its id (<c>id</c>, <c>meta.uuid</c>): a string or a number.</param>
/// <param name="UpdatedAtPath">Dotted path, inside one record, to when the source last changed it (an ISO 8601 date), if it says.</param>
/// <param name="RateLimitPerSecond">Requests per second to this source's host for this tenant, across every node; null: the <c>Syncs:DefaultRateLimitPerSecond</c> setting.</param>
public sealed record SyncSource(
    string Url,
    Dictionary<string, string>? Headers,
    SyncPagination Pagination,
    string ItemsPath,
    string IdPath,
    string? UpdatedAtPath,
    double? RateLimitPerSecond)
{
    public const string HeaderPurpose = "sync.headers";

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static SyncSource FromJson(string json) =>
        JsonSerializer.Deserialize<SyncSource>(json, Json) ?? throw new InvalidOperationException("A sync's stored source is empty.");
}

/// <summary>
/// How pages follow one another (docs/syncs.md).
/// <list type="bullet">
/// <item><c>page</c>: <see cref="PageParam"/>=<see cref="StartPage"/>, +1 each page (and <see cref="SizeParam"/>=<see cref="PageSize"/> when given);
/// stops on an empty page, after <see cref="TotalPagesPath"/>'s count, or when <see cref="TotalPath"/>'s record count is reached.</item>
/// <item><c>cursor</c>: the first request as given, then <see cref="CursorParam"/>=the value at <see cref="NextCursorPath"/>; stops when that is null, absent or empty.</item>
/// <item><c>link</c>: the next URL from <see cref="NextLinkPath"/> in the body, else the <c>Link: &lt;…&gt;; rel="next"</c> header; stops when there is none. Same origin only.</item>
/// </list>
/// </summary>
public sealed record SyncPagination(
    string Type,
    string? PageParam = null,
    int? StartPage = null,
    string? SizeParam = null,
    int? PageSize = null,
    string? TotalPagesPath = null,
    string? TotalPath = null,
    string? CursorParam = null,
    string? NextCursorPath = null,
    string? NextLinkPath = null)
{
    public const string Page = "page", Cursor = "cursor", Link = "link";
    public static readonly string[] Types = [Page, Cursor, Link];
}

/// <summary>
/// Where the next fetch starts, committed with each page's records: the page number, the cursor, or the next
/// link. A sync with no checkpoint starts at the beginning.
/// </summary>
public sealed record SyncCheckpoint(int? Page = null, string? Cursor = null, string? Url = null)
{
    public string ToJson() => JsonSerializer.Serialize(this, SyncSource.Json);

    public static SyncCheckpoint? FromJson(string? json) => json is null ? null : JsonSerializer.Deserialize<SyncCheckpoint>(json, SyncSource.Json);
}
