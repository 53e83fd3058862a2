using System.Text.Json;
using Monolith.Api.Features.Jobs;
using Monolith.Api.Infrastructure.OpenApi;
using Monolith.Domain.Jobs;
using Monolith.Domain.Syncs;

namespace Monolith.Api.Features.Syncs;

/// <summary>Copy an external JSON API's records into a snapshot.</summary>
/// <param name="Source">Where the records are and how to page through them.</param>
/// <param name="Snapshot">The snapshot to upsert them into (letters, digits, <c>_ . -</c>; up to 100 characters): <c>GET /v1/snapshots/{snapshot}/records</c>.</param>
/// <param name="CallbackUrl">An absolute http(s) URL: when the sync's job ends (succeeded, failed for good, cancelled) a signed JSON
/// event is POSTed there (docs/webhooks.md).</param>
public sealed record CreateSyncRequest(SyncSourceRequest? Source, string? Snapshot, string? CallbackUrl = null)
{
    /// <summary>The input of <c>SyncCommands.CreateAsync</c>, once <see cref="CreateSyncRequestValidator"/> has passed the request.</summary>
    public NewSync ToNewSync()
    {
        var (given, p) = (Source!, Source!.Pagination!);
        return new NewSync(
            Snapshot!,
            new SyncSource(
                given.Url!,
                given.Headers,
                new SyncPagination(p.Type!, p.PageParam, p.StartPage, p.SizeParam, p.PageSize, p.TotalPagesPath, p.TotalPath,
                    p.CursorParam, p.NextCursorPath, p.NextLinkPath),
                given.ItemsPath ?? "",
                given.IdPath!,
                given.UpdatedAtPath,
                given.RateLimitPerSecond),
            CallbackUrl);
    }
}

/// <param name="Url">The first page (http or https; a public address).</param>
/// <param name="Headers">Sent with every request (e.g. <c>Authorization</c>); values are encrypted at rest and never shown again.</param>
/// <param name="Pagination">How pages follow one another.</param>
/// <param name="ItemsPath">Dotted path to the records array in a page (<c>data.items</c>); empty or absent when the page is the array.</param>
/// <param name="IdPath">Dotted path to a record's id inside it (<c>id</c>): a string or a number.</param>
/// <param name="UpdatedAtPath">Dotted path to when the source last changed a record (ISO 8601), if it says.</param>
/// <param name="RateLimitPerSecond">Requests per second to this source for this tenant, across every node (default: the Syncs__DefaultRateLimitPerSecond setting, 10).</param>
public sealed record SyncSourceRequest(
    string? Url,
    Dictionary<string, string>? Headers,
    SyncPaginationRequest? Pagination,
    string? ItemsPath,
    string? IdPath,
    string? UpdatedAtPath = null,
    double? RateLimitPerSecond = null);

/// <param name="Type"><c>page</c>, <c>cursor</c> or <c>link</c>.</param>
/// <param name="PageParam">page: the page number's query parameter (default <c>page</c>).</param>
/// <param name="StartPage">page: the first page's number (default 1).</param>
/// <param name="SizeParam">page: the page size's query parameter, sent when <paramref name="PageSize"/> is given.</param>
/// <param name="PageSize">page: records per page to ask for.</param>
/// <param name="TotalPagesPath">page: dotted path to the number of pages in a page's body; the sync stops after that many.</param>
/// <param name="TotalPath">Dotted path to the number of records (progress and ETA; with pageSize also where page paging stops).</param>
/// <param name="CursorParam">cursor: the cursor's query parameter (default <c>cursor</c>).</param>
/// <param name="NextCursorPath">cursor: dotted path to the next cursor in a page's body (required); null, absent or empty ends the sync.</param>
/// <param name="NextLinkPath">link: dotted path to the next page's URL in the body; without it the <c>Link: &lt;…&gt;; rel="next"</c> header is followed.</param>
public sealed record SyncPaginationRequest(
    [property: EnumValues(typeof(SyncPagination), nameof(SyncPagination.Types))] string? Type,
    string? PageParam = null,
    int? StartPage = null,
    string? SizeParam = null,
    int? PageSize = null,
    string? TotalPagesPath = null,
    string? TotalPath = null,
    string? CursorParam = null,
    string? NextCursorPath = null,
    string? NextLinkPath = null);

/// <summary>An accepted sync: its id and the <c>sync_records</c> job that runs it.</summary>
public sealed record SyncCreatedResponse(Guid Id, Guid JobId, string Snapshot, [property: EnumValues(typeof(SyncStatus))] string State);

/// <summary>A sync as clients see it.</summary>
/// <param name="State">queued (waiting for a worker, a retry included), running, completed, failed or cancelled.</param>
/// <param name="Checkpoint">Where the next fetch starts (<c>page</c>, <c>cursor</c> or <c>url</c>); null before the first page and when completed.</param>
/// <param name="PagesFetched">Pages fetched and committed.</param>
/// <param name="ProgressPercent">From the pages or records the source says it has; null when it does not say.</param>
/// <param name="EtaSeconds">Time left at the pace so far, when the progress is known, the sync runs and the estimate is at most a
/// year (a source's total can be anything; beyond that it says nothing).</param>
public sealed record SyncResponse(
    Guid Id,
    string Snapshot,
    [property: EnumValues(typeof(SyncStatus))] string State,
    SyncSourceResponse Source,
    JsonElement? Checkpoint,
    int PagesFetched,
    long RecordsUpserted,
    int? TotalPages,
    long? TotalRecords,
    int? ProgressPercent,
    double? EtaSeconds,
    string? Error,
    RowJobResponse? Job,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? LastPageAt,
    DateTimeOffset? FinishedAt)
{
    /// <summary>
    /// The longest ETA given, in seconds (a year). A source decides its own total: 9,000,000,000,000,000,000 records of
    /// which 10 are fetched gives an estimate of some 10^17 s, which no clock can show; past this bound there is none.
    /// </summary>
    public const double MaxEtaSeconds = 365 * 24 * 3600;

    /// <summary>The sync as clients see it now: its status by <see cref="SyncStatuses.Of"/>, the one rule.</summary>
    public static SyncResponse From(Sync sync, Job? job, DateTimeOffset now) => From(sync, job, SyncStatuses.Of(sync, job, now), now);

    /// <summary>
    /// The sync as clients see it, in <paramref name="status"/> (<see cref="SyncStatuses.Of"/>): an error only when it
    /// failed (the row's, else the job's last), and when it ended the row's time, else the job's.
    /// </summary>
    public static SyncResponse From(Sync sync, Job? job, SyncStatus status, DateTimeOffset now)
    {
        // Whether the status is the job's (the row's own once completed, or without a job to go by).
        var byJob = job is not null && sync.State != SyncState.Completed && JobQueries.EffectiveState(job, now) != JobState.Succeeded;
        var finishedAt = status switch
        {
            SyncStatus.Cancelled when byJob => job!.FinishedAt,
            SyncStatus.Failed when byJob => sync.FinishedAt ?? job!.FinishedAt,
            SyncStatus.Queued or SyncStatus.Running when byJob => null,
            _ => sync.FinishedAt,
        };
        var source = SyncSource.FromJson(sync.Source);
        double? fraction = sync.State == SyncState.Completed ? 1
            : sync.TotalPages is > 0 ? Math.Min(1, (double)sync.PagesFetched / sync.TotalPages.Value)
            : sync.TotalRecords is > 0 ? Math.Min(1, (double)sync.RecordsUpserted / sync.TotalRecords.Value)
            : null;
        double? eta = status == SyncStatus.Running && fraction is > 0 and < 1 && sync.StartedAt is { } started && sync.LastPageAt is { } last
            ? (last - started).TotalSeconds * (1 - fraction.Value) / fraction.Value
            : null;
        eta = eta is >= 0 and <= MaxEtaSeconds ? Math.Round(eta.Value, 1) : null; // NaN and infinities are neither
        return new SyncResponse(
            sync.Id,
            sync.Snapshot,
            status.ToName(),
            new SyncSourceResponse(source.Url, source.Headers?.Keys.Order(StringComparer.OrdinalIgnoreCase).ToList() ?? [], source.Pagination,
                source.ItemsPath, source.IdPath, source.UpdatedAtPath, source.RateLimitPerSecond),
            sync.Checkpoint is null ? null : JsonDocument.Parse(sync.Checkpoint).RootElement.Clone(),
            sync.PagesFetched,
            sync.RecordsUpserted,
            sync.TotalPages,
            sync.TotalRecords,
            fraction is null ? null : (int)Math.Floor(fraction.Value * 100),
            eta,
            status != SyncStatus.Failed ? null : byJob ? sync.Error ?? job!.LastError : sync.Error,
            RowJobResponse.From(job, now),
            sync.CreatedAt,
            sync.StartedAt,
            sync.LastPageAt,
            finishedAt);
    }
}

/// <summary>The source as stored, without secrets: header names only.</summary>
public sealed record SyncSourceResponse(
    string Url,
    IReadOnlyList<string> HeaderNames,
    SyncPagination Pagination,
    string ItemsPath,
    string IdPath,
    string? UpdatedAtPath,
    double? RateLimitPerSecond);

/// <summary>One page of syncs, newest first.</summary>
/// <param name="NextCursor">Pass as <c>cursor</c> for the next page; null on the last page.</param>
public sealed record SyncListResponse(IReadOnlyList<SyncResponse> Items, string? NextCursor);
