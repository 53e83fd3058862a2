namespace Monolith.Domain.Syncs;

/// <summary>
/// One record copied from a source: unique per tenant, snapshot and the source's own id, so a later sync of the
/// same snapshot updates it in place (upsert). Written only by <c>sync_records</c> and
/// <c>import_records</c> (batched <c>INSERT … ON CONFLICT DO UPDATE</c>).
/// </summary>
public sealed class SnapshotRecord
{
    public Guid TenantId { get; set; }
    public string Snapshot { get; set; } = "";

    /// <summary>The record's id at the source (from <c>idPath</c>), as text.</summary>
    public string ExternalId { get; set; } = "";

    /// <summary>The record as the source sent it (jsonb).</summary>
    public string Data { get; set; } = "{}";

    /// <summary>When a sync last fetched it.</summary>
    public DateTimeOffset FetchedAt { get; set; }

    /// <summary>When the source says it last changed (<c>updatedAtPath</c>), if it says.</summary>
    public DateTimeOffset? UpdatedAt { get; set; }

    /// <summary>The sync that last wrote it (null when an import did).</summary>
    public Guid? SyncId { get; set; }

    /// <summary>The import that last wrote it (null when a sync did).</summary>
    public Guid? ImportId { get; set; }
}
