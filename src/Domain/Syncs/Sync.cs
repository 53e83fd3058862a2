using Monolith.Domain.Jobs;
using Monolith.Domain.Text;

namespace Monolith.Domain.Syncs;

/// <summary>
/// One copy of an external JSON API's records into a snapshot (<see cref="SnapshotRecord"/>), run by a
/// <c>sync_records</c> job. Each page's records are written in the transaction that advances
/// <see cref="Checkpoint"/> and the counters, so a resumed run starts exactly after the last committed page.
/// </summary>
public sealed class Sync : IJobRow
{
    /// <summary>UUIDv7, so ids sort by creation time.</summary>
    public Guid Id { get; set; }
    public Guid TenantId { get; set; }

    /// <summary>The snapshot the records go to (per tenant).</summary>
    public string Snapshot { get; set; } = "";

    /// <summary>The <see cref="SyncSource"/> as jsonb, header values encrypted.</summary>
    public string Source { get; set; } = "{}";

    public SyncState State { get; set; }

    /// <summary>A <see cref="SyncCheckpoint"/> as jsonb: where the next fetch starts; null before the first page and once completed.</summary>
    public string? Checkpoint { get; set; }

    /// <summary>Pages fetched and committed (a page fetched by a run that died before committing is not counted).</summary>
    public int PagesFetched { get; set; }
    public long RecordsUpserted { get; set; }

    /// <summary>The number of pages, when the source says (<c>totalPagesPath</c>, or <c>totalPath</c> with a page size).</summary>
    public int? TotalPages { get; set; }

    /// <summary>The number of records, when the source says (<c>totalPath</c>).</summary>
    public long? TotalRecords { get; set; }

    /// <summary>Why the sync failed, when it did (at most <see cref="MaxErrorLength"/> characters: <see cref="StorableError"/>).</summary>
    public string? Error { get; set; }

    public const int MaxErrorLength = 2000;

    /// <summary>The <c>sync_records</c> job.</summary>
    public Guid? JobId { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? StartedAt { get; set; }

    /// <summary>When the last page was committed.</summary>
    public DateTimeOffset? LastPageAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }

    /// <summary>An error for <see cref="Error"/>: an exception's message (which can quote the source, a status line) made storable, and clipped.</summary>
    public static string StorableError(string message)
    {
        var storable = StorableText.Sanitize(message)!;
        return storable.Length <= MaxErrorLength ? storable : storable[..MaxErrorLength];
    }
}
