using System.Security.Claims;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;
using Monolith.Api.Infrastructure;
using Monolith.Api.Infrastructure.OpenApi;
using Monolith.Domain.Syncs;
using Monolith.Domain.Text;

namespace Monolith.Api.Features.Snapshots;

/// <summary>
/// The records syncs copied and imports read, per snapshot (docs/syncs.md, docs/imports.md). Always the caller's own tenant's records: a snapshot
/// name means something only within its tenant (the admin key reads the admin tenant's, which syncs it started).
/// </summary>
public static class SnapshotsApi
{
    public const int DefaultPageSize = 100;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static RouteGroupBuilder MapSnapshotsApi(this IEndpointRouteBuilder routes)
    {
        var snapshots = routes.MapGroup("/v1/snapshots").WithTags("Snapshots").RequireAuthorization();
        snapshots.MapGet("/{name}/records", ListRecords).WithName("ListSnapshotRecords").ProducesValidationProblem()
            .WithParameterFacts("limit", minimum: 1, maximum: SyncQueries.MaxRecordPageSize)
            .WithSummary("A snapshot's records in external-id order, with cursor paging and equality filters (filter=field:value)")
            .WithDescription("filter=status:active keeps records whose top-level field equals the value; the value is read as JSON " +
                             "when it is a number, true, false, null or a quoted string, else as a string. Repeat filter to combine (all must hold).");
        snapshots.MapGet("/{name}/records/{externalId}", GetRecord).WithName("GetSnapshotRecord").ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("One record of a snapshot by its id at the source");
        return snapshots;
    }

    /// <param name="name">The snapshot.</param>
    /// <param name="cursor">The <c>nextCursor</c> of the previous page.</param>
    /// <param name="limit">Page size, 1 to 1,000 (default 100).</param>
    /// <param name="filter"><c>field:value</c>, a top-level field equal to a value; repeat to combine.</param>
    public static async Task<Results<Ok<SnapshotRecordListResponse>, ValidationProblem>> ListRecords(
        string name, string? cursor, int? limit, string[]? filter, ClaimsPrincipal user, SyncQueries queries, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        string? after = null;
        if (cursor is not null)
        {
            // A cursor is an external id, base64url: what decodes to no UTF-8, or to text that cannot be stored, is none.
            try
            {
                after = StrictUtf8.GetString(WebEncoders.Base64UrlDecode(cursor));
            }
            catch (Exception ex) when (ex is FormatException or DecoderFallbackException)
            {
            }
            if (after is null || !StorableText.IsStorable(after)) errors["cursor"] = ["Not a cursor from a previous page."];
        }
        if (limit is < 1 or > SyncQueries.MaxRecordPageSize) errors["limit"] = [$"Must be between 1 and {SyncQueries.MaxRecordPageSize}."];
        var contains = new JsonObject();
        foreach (var condition in filter ?? [])
        {
            var colon = condition.IndexOf(':');
            if (colon <= 0)
            {
                errors["filter"] = ["Write filter=field:value (a top-level field of the records)."];
                break;
            }
            var field = condition[..colon];
            if (contains.ContainsKey(field))
            {
                errors["filter"] = [$"The field '{field}' is filtered twice."];
                break;
            }
            var value = FilterValue(condition[(colon + 1)..], out var storable);
            if (!storable)
            {
                errors["filter"] = [StorableText.Reason]; // e.g. "\u0000", a JSON string escaping what cannot be stored
                break;
            }
            contains[field] = value;
        }
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors);

        var pageSize = limit ?? DefaultPageSize;
        var page = await queries.RecordsAsync(user.TenantId(), name, after, contains.Count == 0 ? null : contains.ToJsonString(), pageSize, ct);
        var next = page.Count == pageSize ? WebEncoders.Base64UrlEncode(Encoding.UTF8.GetBytes(page[^1].ExternalId)) : null;
        return TypedResults.Ok(new SnapshotRecordListResponse(page.Select(ToResponse).ToList(), next));
    }

    public static async Task<Results<Ok<SnapshotRecordResponse>, ProblemHttpResult>> GetRecord(
        string name, string externalId, ClaimsPrincipal user, SyncQueries queries, CancellationToken ct)
    {
        var record = await queries.RecordAsync(user.TenantId(), name, externalId, ct);
        return record is null
            ? TypedResults.Problem(title: "Record not found.", detail: $"Snapshot '{name}' holds no record '{externalId}' visible to this API key.",
                statusCode: StatusCodes.Status404NotFound)
            : TypedResults.Ok(ToResponse(record));
    }

    /// <summary>
    /// A filter's value: JSON when it reads as a scalar (<c>42</c>, <c>true</c>, <c>null</c>, <c>"x"</c>), else the text
    /// itself. <paramref name="storable"/> is false for a JSON string whose escapes make text that cannot be stored.
    /// </summary>
    private static JsonNode? FilterValue(string text, out bool storable)
    {
        storable = true;
        try
        {
            using var document = JsonDocument.Parse(text);
            if (document.RootElement.ValueKind is not (JsonValueKind.Object or JsonValueKind.Array))
            {
                storable = StorableText.FirstUnstorablePath(document.RootElement, "") is null;
                return storable ? JsonNode.Parse(text) : null;
            }
        }
        catch (JsonException)
        {
        }
        return JsonValue.Create(text);
    }

    private static SnapshotRecordResponse ToResponse(SnapshotRecord r) =>
        new(r.ExternalId, JsonDocument.Parse(r.Data).RootElement.Clone(), r.FetchedAt, r.UpdatedAt, r.SyncId, r.ImportId);
}
