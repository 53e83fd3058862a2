using System.Text.Json;

namespace Monolith.Api.Features.Snapshots;

/// <summary>One record of a snapshot.</summary>
/// <param name="ExternalId">The record's id at the source.</param>
/// <param name="Data">The record as the source last sent it.</param>
/// <param name="FetchedAt">When a sync last fetched it (or an import last wrote it).</param>
/// <param name="UpdatedAt">When the source says it last changed (the sync's updatedAtPath), if it says.</param>
/// <param name="SyncId">The sync that last wrote it (null when an import did).</param>
/// <param name="ImportId">The import that last wrote it (null when a sync did).</param>
public sealed record SnapshotRecordResponse(
    string ExternalId, JsonElement Data, DateTimeOffset FetchedAt, DateTimeOffset? UpdatedAt, Guid? SyncId, Guid? ImportId);

/// <summary>One page of a snapshot's records, in external-id order.</summary>
/// <param name="NextCursor">Pass as <c>cursor</c> for the next page; null on the last page.</param>
public sealed record SnapshotRecordListResponse(IReadOnlyList<SnapshotRecordResponse> Items, string? NextCursor);
