using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Features.Syncs;

/// <summary>The service with a high default rate limit (tests that measure the limit set their own) and short inline 429 waits.</summary>
public sealed class SyncsFactory : MonolithFactory
{
    protected override Dictionary<string, string?> Settings => new(base.Settings)
    {
        ["Syncs:DefaultRateLimitPerSecond"] = "500",
        ["Syncs:MaxInlineRetryAfterSeconds"] = "5",
    };
}

/// <summary>What sync tests do over HTTP, as a user of the API would.</summary>
public static class SyncTestKit
{
    private static readonly JsonSerializerOptions Json = JobClientExtensions.Json;

    /// <summary>A request body for a source of <see cref="SourceApi"/> in one of its styles.</summary>
    public static object Body(SourceApi source, string style, string snapshot, object? extraSource = null, double? rateLimitPerSecond = null)
    {
        object pagination = style switch
        {
            "page" => new { type = "page", pageParam = "page", sizeParam = "size", pageSize = source.PageSize, totalPagesPath = "meta.totalPages", totalPath = "meta.total" },
            "page-until-empty" => new { type = "page" },
            "cursor" => new { type = "cursor", cursorParam = "cursor", nextCursorPath = "paging.next" },
            "link" => new { type = "link" },
            "link-body" => new { type = "link", nextLinkPath = "links.next" },
            _ => throw new ArgumentOutOfRangeException(nameof(style)),
        };
        var path = style switch { "page" or "page-until-empty" => "page", _ => style };
        var items = style switch { "page" or "page-until-empty" => "items", "cursor" => "data.items", _ => "results" };
        var sourceBody = new Dictionary<string, object?>
        {
            ["url"] = $"{source.BaseUrl}/{path}",
            ["pagination"] = pagination,
            ["itemsPath"] = items,
            ["idPath"] = "id",
            ["updatedAtPath"] = "modified",
            ["rateLimitPerSecond"] = rateLimitPerSecond,
        };
        if (extraSource is not null)
        {
            foreach (var p in JsonSerializer.SerializeToElement(extraSource, Json).EnumerateObject()) sourceBody[p.Name] = p.Value;
        }
        return new { source = sourceBody, snapshot };
    }

    public static async Task<SyncCreatedDto> CreateSyncAsync(this HttpClient client, object body)
    {
        using var response = await client.PostAsJsonAsync("/v1/syncs", body, Json);
        await JobClientExtensions.EnsureSuccessAsync(response);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var created = (await response.Content.ReadFromJsonAsync<SyncCreatedDto>(Json))!;
        Assert.Equal($"/v1/syncs/{created.Id}", response.Headers.Location?.ToString());
        return created;
    }

    public static async Task<SyncDto> GetSyncAsync(this HttpClient client, Guid id)
    {
        using var response = await client.GetAsync($"/v1/syncs/{id}");
        await JobClientExtensions.EnsureSuccessAsync(response);
        return (await response.Content.ReadFromJsonAsync<SyncDto>(Json))!;
    }

    /// <summary>Polls the sync until <paramref name="done"/> holds; fails with its last view after the deadline.</summary>
    public static async Task<SyncDto> WaitForSyncAsync(this HttpClient client, Guid id, Func<SyncDto, bool> done, string what, TimeSpan? timeout = null)
    {
        var clock = Stopwatch.StartNew();
        var limit = timeout ?? TimeSpan.FromSeconds(60);
        while (true)
        {
            var sync = await client.GetSyncAsync(id);
            if (done(sync)) return sync;
            if (clock.Elapsed > limit)
            {
                Assert.Fail($"Sync {id} did not reach '{what}' within {limit.TotalSeconds} s: it is {sync.State}, {sync.PagesFetched} pages, " +
                            $"{sync.RecordsUpserted} records, error {sync.Error ?? "none"}, job {sync.Job?.State} ({sync.Job?.LastError ?? "no error"}).");
            }
            await Task.Delay(25);
        }
    }

    /// <summary>Waits until the sync and its job have both finished (the job's outcome is written just after the sync's).</summary>
    public static Task<SyncDto> WaitUntilFinishedAsync(this HttpClient client, Guid id, TimeSpan? timeout = null) =>
        client.WaitForSyncAsync(id, s => s.State is "completed" or "failed" or "cancelled" && s.Job?.State is "succeeded" or "failed" or "cancelled",
            "finished", timeout);

    /// <summary>Every record of a snapshot, through the paged API.</summary>
    public static async Task<List<SnapshotRecordDto>> AllRecordsAsync(this HttpClient client, string snapshot, int limit = 1000, string? filter = null)
    {
        var all = new List<SnapshotRecordDto>();
        string? cursor = null;
        do
        {
            var url = $"/v1/snapshots/{snapshot}/records?limit={limit}" + (cursor is null ? "" : $"&cursor={cursor}") +
                      (filter is null ? "" : $"&filter={Uri.EscapeDataString(filter)}");
            var page = (await client.GetFromJsonAsync<SnapshotPageDto>(url, Json))!;
            all.AddRange(page.Items);
            cursor = page.NextCursor;
        } while (cursor is not null);
        return all;
    }

    /// <summary>Asserts the snapshot holds exactly <paramref name="expected"/>: the same ids, each with the source's data.</summary>
    public static void AssertSameRecords(IReadOnlyList<System.Text.Json.Nodes.JsonObject> expected, IReadOnlyList<SnapshotRecordDto> actual)
    {
        Assert.Equal(expected.Select(r => (string)r["id"]!).Order(StringComparer.Ordinal), actual.Select(r => r.ExternalId).Order(StringComparer.Ordinal));
        var byId = actual.ToDictionary(r => r.ExternalId);
        foreach (var record in expected)
        {
            var stored = byId[(string)record["id"]!];
            Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(record, System.Text.Json.Nodes.JsonNode.Parse(stored.Data.GetRawText())),
                $"Record {record["id"]} differs: source {record.ToJsonString()}, snapshot {stored.Data.GetRawText()}");
        }
    }
}

public sealed record SyncCreatedDto(Guid Id, Guid JobId, string Snapshot, string State);

public sealed record SyncDto(
    Guid Id,
    string Snapshot,
    string State,
    SyncSourceDto Source,
    JsonElement? Checkpoint,
    int PagesFetched,
    long RecordsUpserted,
    int? TotalPages,
    long? TotalRecords,
    int? ProgressPercent,
    double? EtaSeconds,
    string? Error,
    SyncJobDto? Job,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? LastPageAt,
    DateTimeOffset? FinishedAt);

public sealed record SyncSourceDto(string Url, List<string> HeaderNames, JsonElement Pagination, string ItemsPath, string IdPath, string? UpdatedAtPath, double? RateLimitPerSecond);

public sealed record SyncJobDto(Guid Id, string State, int Attempt, int MaxAttempts, ProgressDto? Progress, string? LastError);

public sealed record SnapshotRecordDto(string ExternalId, JsonElement Data, DateTimeOffset FetchedAt, DateTimeOffset? UpdatedAt, Guid? SyncId, Guid? ImportId = null);

public sealed record SnapshotPageDto(List<SnapshotRecordDto> Items, string? NextCursor);
