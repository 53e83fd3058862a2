using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Monolith.Domain.Persistence;
using Monolith.Domain.Secrets;
using Monolith.Domain.Syncs;
using Monolith.Domain.Text;
using Monolith.Worker.Engine;
using Monolith.Worker.Outbound;
using Monolith.Worker.Storage;
using Npgsql;

namespace Monolith.Worker.Jobs.Syncs;

/// <summary>
/// Copies an external JSON API's records into a snapshot, page by page (docs/syncs.md). For each page: wait for
/// the source's rate limit (<see cref="SourceRateLimiter"/>), fetch it with the <c>outbound</c> client, pick the
/// records (<c>itemsPath</c>) and their ids (<c>idPath</c>), then in ONE transaction upsert them and advance the
/// sync's checkpoint and counters. The commit is fenced twice: the job row must still hold this attempt's lease
/// (locked <c>FOR SHARE</c> until commit, so a recovery cannot take it over mid-commit) and the sync's page count
/// must be the one this run started the page from; a stale run therefore never writes.
/// <para>
/// So a retry, or a re-run after a crash, starts at the last committed checkpoint: no page committed is fetched
/// again and none is skipped (only a page fetched but not yet committed when a run stopped is fetched again).
/// Cancellation is honoured between pages; what was committed stays.
/// </para>
/// </summary>
public sealed class SyncRecordsJob(
    MonolithDbContext db,
    NpgsqlDataSource dataSource,
    IHttpClientFactory httpClients,
    SecretProtector secrets,
    SourceRateLimiter rateLimiter,
    IOptions<SyncOptions> options,
    ILogger<SyncRecordsJob> logger) : IJobHandler<SyncRecordsPayload>
{
    private const string What = "The source";

    /// <summary>How many 429s in a row one page may get answered inside the job before the attempt ends.</summary>
    private const int MaxInlineRetries = 10;

    public async Task<object?> HandleAsync(SyncRecordsPayload payload, JobContext context, CancellationToken ct)
    {
        var sync = await db.Syncs.AsNoTracking()
            .FirstOrDefaultAsync(s => s.Id == payload.SyncId && s.TenantId == context.TenantId, ct)
            ?? throw new PermanentJobException($"Sync {payload.SyncId} does not exist (or belongs to another tenant).");
        if (sync.State == SyncState.Completed) return Result(sync.Id, sync.PagesFetched, sync.RecordsUpserted); // only the outcome was lost

        var jobId = context.JobId;
        await db.Syncs.Where(s => s.Id == sync.Id && s.State != SyncState.Completed).ExecuteUpdateAsync(s => s
            .SetProperty(x => x.State, SyncState.Running)
            .SetProperty(x => x.JobId, jobId)
            .SetProperty(x => x.StartedAt, x => x.StartedAt ?? DateTimeOffset.UtcNow)
            .SetProperty(x => x.FinishedAt, (DateTimeOffset?)null)
            .SetProperty(x => x.Error, (string?)null), ct);

        // A failure, permanent or on the last attempt, and a cancel end the job: SyncJobEnded writes that on the row,
        // with the job's error, in the transaction that ends it.
        var source = SyncSource.FromJson(sync.Source);
        Dictionary<string, string> headers;
        try
        {
            headers = secrets.UnprotectValues(source.Headers, SyncSource.HeaderPurpose);
        }
        catch (SecretUnreadableException ex)
        {
            throw new PermanentJobException($"The source's headers cannot be decrypted: {ex.Message}", ex);
        }
        return await RunAsync(sync, source, headers, context, ct);
    }

    private static object Result(Guid syncId, int pages, long records) => new { syncId, pagesFetched = pages, recordsUpserted = records };

    private async Task<object?> RunAsync(Sync sync, SyncSource source, Dictionary<string, string> headers, JobContext context, CancellationToken ct)
    {
        var http = httpClients.CreateClient(OutboundHttp.ClientName);
        var origin = new Uri(source.Url).GetLeftPart(UriPartial.Authority);
        var rateKey = $"sync:{sync.TenantId}:{origin}";
        var perSecond = source.RateLimitPerSecond ?? options.Value.DefaultRateLimitPerSecond;

        var checkpoint = SyncCheckpoint.FromJson(sync.Checkpoint);
        var pages = sync.PagesFetched;
        var records = sync.RecordsUpserted;
        int? totalPages = sync.TotalPages;
        long? totalRecords = sync.TotalRecords;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            var url = RequestUrl(source, checkpoint);
            using var page = await FetchAsync(http, url, headers, rateKey, perSecond, ct);
            var step = Interpret(source, checkpoint, url, page);
            totalPages = step.TotalPages ?? totalPages;
            totalRecords = step.TotalRecords ?? totalRecords;

            var upserted = await CommitAsync(sync, context, pages, step, ct);
            pages++;
            records += upserted;
            checkpoint = step.Next;

            var percent = step.Next is null ? 100
                : totalPages is > 0 ? (int)Math.Min(99, pages * 100L / totalPages.Value)
                : totalRecords is > 0 ? (int)Math.Min(99, records * 100 / totalRecords.Value)
                : 0;
            await context.ReportProgressAsync(percent,
                $"{pages:N0}{(totalPages is { } t ? $" of {t:N0}" : "")} pages fetched, {records:N0} records upserted", ct);
            if (step.Next is null) break;
        }
        logger.LogInformation("Sync {SyncId} completed: {Pages} pages, {Records} records upserted", sync.Id, pages, records);
        return Result(sync.Id, pages, records);
    }

    /// <summary>The URL of the page a checkpoint points at (the first page without one).</summary>
    private static Uri RequestUrl(SyncSource source, SyncCheckpoint? checkpoint)
    {
        var first = new Uri(source.Url);
        var p = source.Pagination;
        switch (p.Type)
        {
            case SyncPagination.Page:
                var url = WithQuery(first, p.PageParam ?? "page", (checkpoint?.Page ?? p.StartPage ?? 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
                return p.SizeParam is { } sizeParam && p.PageSize is { } size ? WithQuery(url, sizeParam, size.ToString(System.Globalization.CultureInfo.InvariantCulture)) : url;
            case SyncPagination.Cursor:
                return checkpoint?.Cursor is { } cursor ? WithQuery(first, p.CursorParam ?? "cursor", cursor) : first;
            case SyncPagination.Link:
                return checkpoint?.Url is { } next ? new Uri(next) : first;
            default:
                throw new PermanentJobException($"Unknown pagination type '{p.Type}'.");
        }
    }

    /// <summary><paramref name="url"/> with the query parameter <paramref name="name"/> set to <paramref name="value"/> (replacing any given).</summary>
    private static Uri WithQuery(Uri url, string name, string value)
    {
        var builder = new UriBuilder(url);
        var pairs = builder.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Where(pair => Uri.UnescapeDataString(pair.Split('=')[0]) != name)
            .Append($"{Uri.EscapeDataString(name)}={Uri.EscapeDataString(value)}");
        builder.Query = string.Join('&', pairs);
        return builder.Uri;
    }

    /// <summary>A fetched page: its parsed body and its Link header's next URL.</summary>
    private sealed record FetchedPage(JsonDocument Body, Uri? LinkNext) : IDisposable
    {
        public void Dispose() => Body.Dispose();
    }

    /// <summary>
    /// Fetches one page within the source's rate limit. A 429 is honoured: its Retry-After (1 s without one) holds
    /// back every node's requests to the source, and, when short enough, the same page is asked again after it;
    /// otherwise, and for any other failure, <see cref="OutboundFailures"/> decides between retry and failure.
    /// </summary>
    private async Task<FetchedPage> FetchAsync(HttpClient http, Uri url, Dictionary<string, string> headers, string rateKey, double perSecond, CancellationToken ct)
    {
        for (var tooMany = 0; ; tooMany++)
        {
            await rateLimiter.WaitAsync(rateKey, perSecond, ct);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(options.Value.RequestTimeoutSeconds));
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, url);
                // The same-origin rule of next links holds for redirects too: one to another origin fails the sync uncalled.
                request.Options.Set(OutboundRedirectHandler.SameOriginOnly, true);
                request.Headers.Accept.ParseAdd("application/json");
                foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);
                using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
                if (response.StatusCode == HttpStatusCode.TooManyRequests)
                {
                    var delay = OutboundFailures.RetryAfter(response) ?? TimeSpan.FromSeconds(1);
                    await rateLimiter.PushBackAsync(rateKey, delay, ct);
                    if (tooMany < MaxInlineRetries && delay <= TimeSpan.FromSeconds(options.Value.MaxInlineRetryAfterSeconds))
                    {
                        logger.LogInformation("The source answered 429; asking again in {Seconds:0.###} s", delay.TotalSeconds);
                        continue; // the limiter now holds every request to this source back until then
                    }
                }
                OutboundFailures.ThrowIfFailed(response, What);

                await using var body = new LimitedReadStream(await response.Content.ReadAsStreamAsync(timeout.Token), options.Value.MaxPageBytes);
                var document = await JsonDocument.ParseAsync(body, cancellationToken: timeout.Token);
                return new FetchedPage(document, NextFromLinkHeader(response, url));
            }
            catch (FileTooLargeException)
            {
                throw new PermanentJobException($"A page of the source is larger than {options.Value.MaxPageBytes:N0} bytes (Syncs:MaxPageBytes).");
            }
            catch (JsonException ex)
            {
                throw new PermanentJobException($"A page of the source is not JSON: {ex.Message}", ex);
            }
            catch (Exception ex) when (OutboundFailures.Classify(ex, What, ct) is { } verdict)
            {
                throw verdict;
            }
        }
    }

    /// <summary>The <c>rel="next"</c> target of the response's Link header (RFC 8288), resolved against the request's URL.</summary>
    private static Uri? NextFromLinkHeader(HttpResponseMessage response, Uri requestUrl)
    {
        if (!response.Headers.TryGetValues("Link", out var values)) return null;
        foreach (var link in values.SelectMany(v => v.Split(',')))
        {
            var parts = link.Split(';', StringSplitOptions.TrimEntries);
            if (parts.Length < 2 || !parts[0].StartsWith('<') || !parts[0].EndsWith('>')) continue;
            var isNext = parts.Skip(1).Any(a => a.Replace(" ", "").Trim() is var r &&
                r.StartsWith("rel=", StringComparison.OrdinalIgnoreCase) &&
                r[4..].Trim('"').Split(' ').Contains("next", StringComparer.OrdinalIgnoreCase));
            if (isNext && Uri.TryCreate(requestUrl, parts[0][1..^1], out var next)) return next;
        }
        return null;
    }

    /// <summary>What one page holds: its records (deduplicated by id, the last one wins), where the next page starts (null: this was the last), and any totals the source gave.</summary>
    private sealed record PageStep(List<(string Id, string Json, DateTimeOffset? UpdatedAt)> Records, SyncCheckpoint? Next, int? TotalPages, long? TotalRecords);

    private static PageStep Interpret(SyncSource source, SyncCheckpoint? checkpoint, Uri url, FetchedPage page)
    {
        var root = page.Body.RootElement;
        var items = JsonPath.Find(root, source.ItemsPath);
        if (items is not { ValueKind: JsonValueKind.Array } array)
        {
            throw new PermanentJobException($"The page at {Describe(url)} has no array at itemsPath '{source.ItemsPath}'.");
        }

        var byId = new Dictionary<string, (string Id, string Json, DateTimeOffset? UpdatedAt)>(StringComparer.Ordinal);
        var index = 0;
        foreach (var item in array.EnumerateArray())
        {
            var id = JsonPath.FindText(item, source.IdPath)
                ?? throw new PermanentJobException($"Record {index} of the page at {Describe(url)} has no id (a string or a number) at idPath '{source.IdPath}'.");
            if (id.Length > 500) throw new PermanentJobException($"Record {index} of the page at {Describe(url)} has an id longer than 500 characters.");
            DateTimeOffset? updatedAt = source.UpdatedAtPath is { } path && JsonPath.FindText(item, path) is { } text &&
                DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var parsed)
                ? parsed : null;
            byId[id] = (id, item.GetRawText(), updatedAt);
            index++;
        }
        var records = byId.Values.ToList();

        var p = source.Pagination;
        long? totalRecords = p.TotalPath is { } totalPath ? JsonPath.FindLong(root, totalPath) : null;
        int? totalPages = p.TotalPagesPath is { } pagesPath && JsonPath.FindLong(root, pagesPath) is { } pagesValue ? (int)Math.Min(int.MaxValue, pagesValue)
            : totalRecords is { } total && p.PageSize is > 0 ? (int)Math.Min(int.MaxValue, (total + p.PageSize.Value - 1) / p.PageSize.Value)
            : null;

        SyncCheckpoint? next;
        switch (p.Type)
        {
            case SyncPagination.Page:
                var start = p.StartPage ?? 1;
                var current = checkpoint?.Page ?? start;
                var last = array.GetArrayLength() == 0 || (totalPages is { } pagesCount && current - start + 1 >= pagesCount);
                next = last ? null : new SyncCheckpoint(Page: current + 1);
                break;
            case SyncPagination.Cursor:
                var cursor = JsonPath.FindText(root, p.NextCursorPath ?? "next_cursor");
                if (cursor is not null && cursor == checkpoint?.Cursor)
                {
                    throw new PermanentJobException($"The source gave the same cursor again at {Describe(url)}: it would never end.");
                }
                next = cursor is null ? null : new SyncCheckpoint(Cursor: cursor);
                break;
            case SyncPagination.Link:
                var link = p.NextLinkPath is { } linkPath
                    ? JsonPath.FindText(root, linkPath) is { } text && Uri.TryCreate(url, text, out var fromBody) ? fromBody : null
                    : page.LinkNext;
                if (link is not null)
                {
                    // Same origin only: the source's headers (credentials) must not be sent to a host the client never named.
                    if (!string.Equals(link.GetLeftPart(UriPartial.Authority), url.GetLeftPart(UriPartial.Authority), StringComparison.OrdinalIgnoreCase))
                    {
                        throw new PermanentJobException($"The next link leads to another origin ({link.GetLeftPart(UriPartial.Authority)}); only links on the source's own origin are followed.");
                    }
                    if (link == url) throw new PermanentJobException($"The next link of {Describe(url)} points at itself: it would never end.");
                }
                next = link is null ? null : new SyncCheckpoint(Url: link.AbsoluteUri);
                break;
            default:
                throw new PermanentJobException($"Unknown pagination type '{p.Type}'.");
        }
        return new PageStep(records, next, totalPages, totalRecords);
    }

    /// <summary>
    /// A URL for messages (stored as the sync's error and logged with the attempt): the path only, since a query
    /// string can carry a key (<c>?api_key=…</c>) and logs never hold secrets.
    /// </summary>
    private static string Describe(Uri url) => url.AbsolutePath;

    /// <summary>
    /// One page in one transaction: the fences (this attempt's lease, held until commit; the sync's page count as
    /// this run last saw it), the checkpoint and counters (completed when there is no next page), then the records,
    /// upserted in one statement from arrays. Returns how many records were upserted.
    /// </summary>
    private async Task<int> CommitAsync(Sync sync, JobContext context, int pagesSeen, PageStep step, CancellationToken ct)
    {
        var records = StorableRecords(step.Records, context);
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);

        await using (var lease = new NpgsqlCommand(
            "SELECT 1 FROM jobs WHERE id = $1 AND lease_token = $2 AND state = 'running' FOR SHARE", connection, tx))
        {
            lease.Parameters.Add(new NpgsqlParameter { Value = context.JobId });
            lease.Parameters.Add(new NpgsqlParameter { Value = context.LeaseToken });
            if (await lease.ExecuteScalarAsync(ct) is null) throw new StaleRunException("This attempt's lease is no longer current: another run took the job over.");
        }

        await using (var advance = new NpgsqlCommand("""
            UPDATE syncs SET checkpoint = $3::jsonb, pages_fetched = pages_fetched + 1, records_upserted = records_upserted + $4,
                             total_pages = coalesce($5, total_pages), total_records = coalesce($6, total_records), last_page_at = now(),
                             state = CASE WHEN $7 THEN 'completed' ELSE state END,
                             finished_at = CASE WHEN $7 THEN now() END
            WHERE id = $1 AND pages_fetched = $2 AND state = 'running'
            """, connection, tx))
        {
            advance.Parameters.Add(new NpgsqlParameter { Value = sync.Id });
            advance.Parameters.Add(new NpgsqlParameter { Value = pagesSeen });
            advance.Parameters.Add(new NpgsqlParameter { Value = (object?)step.Next?.ToJson() ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
            advance.Parameters.Add(new NpgsqlParameter { Value = (long)records.Count });
            advance.Parameters.Add(new NpgsqlParameter { Value = (object?)step.TotalPages ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Integer });
            advance.Parameters.Add(new NpgsqlParameter { Value = (object?)step.TotalRecords ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bigint });
            advance.Parameters.Add(new NpgsqlParameter { Value = step.Next is null });
            if (await advance.ExecuteNonQueryAsync(ct) == 0)
            {
                throw new StaleRunException("The sync's checkpoint moved since this run read it: another run is ahead.");
            }
        }

        if (records.Count > 0)
        {
            await using var upsert = new NpgsqlCommand("""
                INSERT INTO snapshot_records AS r (tenant_id, snapshot, external_id, data, fetched_at, updated_at, sync_id)
                SELECT $1, $2, u.id, u.data::jsonb, now(), u.updated_at, $3
                FROM unnest($4::text[], $5::text[], $6::timestamptz[]) AS u(id, data, updated_at)
                ON CONFLICT (tenant_id, snapshot, external_id) DO UPDATE
                SET data = excluded.data, fetched_at = excluded.fetched_at, updated_at = excluded.updated_at, sync_id = excluded.sync_id
                """, connection, tx);
            upsert.Parameters.Add(new NpgsqlParameter { Value = sync.TenantId });
            upsert.Parameters.Add(new NpgsqlParameter { Value = sync.Snapshot });
            upsert.Parameters.Add(new NpgsqlParameter { Value = sync.Id });
            upsert.Parameters.Add(new NpgsqlParameter { Value = records.Select(r => r.Id).ToArray() });
            upsert.Parameters.Add(new NpgsqlParameter { Value = records.Select(r => r.Json).ToArray() });
            upsert.Parameters.Add(new NpgsqlParameter { Value = records.Select(r => r.UpdatedAt).ToArray(), NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.TimestampTz });
            await upsert.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        return records.Count;
    }

    /// <summary>
    /// A page's records as PostgreSQL can store them (<see cref="StorableText"/>): a NUL or a lone surrogate in an id,
    /// a key or a string is replaced by U+FFFD, and the attempt says so (<see cref="JobContext.NoteTextReplaced"/>).
    /// Ids made equal that way keep the last record, as duplicates on a page do. The same list when nothing changes.
    /// </summary>
    private static List<(string Id, string Json, DateTimeOffset? UpdatedAt)> StorableRecords(
        List<(string Id, string Json, DateTimeOffset? UpdatedAt)> records, JobContext context)
    {
        var replaced = false;
        var byId = new Dictionary<string, (string Id, string Json, DateTimeOffset? UpdatedAt)>(StringComparer.Ordinal);
        foreach (var (id, json, updatedAt) in records)
        {
            var storableId = StorableText.Sanitize(id)!;
            var storableJson = StorableText.SanitizeJson(json, out var changed);
            replaced |= changed || !ReferenceEquals(storableId, id);
            byId[storableId] = (storableId, storableJson, updatedAt);
        }
        if (!replaced) return records;
        context.NoteTextReplaced();
        return byId.Values.ToList();
    }

    /// <summary>This run is no longer the current one (its job was recovered elsewhere): it stops without writing.</summary>
    private sealed class StaleRunException(string message) : Exception(message);
}
