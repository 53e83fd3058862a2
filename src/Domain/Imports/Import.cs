using Monolith.Domain.Datasets;
using Monolith.Domain.Jobs;
using Monolith.Domain.Text;

namespace Monolith.Domain.Imports;

/// <summary>
/// One CSV/TSV file upserted into a tenant's snapshot (<see cref="Syncs.SnapshotRecord"/>, keyed by the file's id
/// column), run by an <c>import_records</c> job (docs/imports.md). The file's rows are committed in batches, each in
/// the transaction that advances <see cref="CheckpointRows"/> and the counters, so a resumed run writes only what comes
/// after the last committed batch.
/// </summary>
public sealed class Import : IJobRow
{
    /// <summary>UUIDv7, so ids sort by creation time.</summary>
    public Guid Id { get; set; }
    public Guid TenantId { get; set; }

    /// <summary>The snapshot the records go to (per tenant).</summary>
    public string Snapshot { get; set; } = "";

    /// <summary>The file name the client uploaded.</summary>
    public string FileName { get; set; } = "";

    /// <summary>Where the file store keeps the bytes (the import's own copy).</summary>
    public string StorageKey { get; set; } = "";
    public long SizeBytes { get; set; }

    /// <summary>The column whose value is a record's id: a header name, or <c>c1</c>…<c>cN</c> without a header.</summary>
    public string IdColumn { get; set; } = "";

    /// <summary>The field separator (one character).</summary>
    public string Delimiter { get; set; } = ",";

    /// <summary><see cref="ImportEncodings.Utf8"/> or <see cref="ImportEncodings.Latin1"/>.</summary>
    public string Encoding { get; set; } = ImportEncodings.Utf8;

    /// <summary>Whether the first row names the columns (else records are keyed <c>c1</c>…<c>cN</c>).</summary>
    public bool HasHeader { get; set; } = true;

    /// <summary>Share of bad rows (0 to 1) above which the import fails when it has read the whole file.</summary>
    public double MaxBadRowShare { get; set; }

    public ImportState State { get; set; }

    /// <summary>Data rows (good and bad) read up to the last committed batch: where a resumed run starts writing.</summary>
    public long CheckpointRows { get; set; }

    /// <summary>Bytes of the stored file read when the last batch was committed (progress).</summary>
    public long BytesRead { get; set; }

    public long RecordsUpserted { get; set; }
    public long RowsRejected { get; set; }

    /// <summary>The first bad rows, a JSON array of <see cref="DatasetLineError"/> (jsonb, at most <see cref="MaxErrorsKept"/>).</summary>
    public string FirstErrors { get; set; } = "[]";

    /// <summary>Why the import failed, when it did (at most <see cref="MaxErrorLength"/> characters: <see cref="StorableError"/>).</summary>
    public string? Error { get; set; }

    /// <summary>The current <c>import_records</c> job.</summary>
    public Guid? JobId { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? StartedAt { get; set; }

    /// <summary>When the last batch was committed.</summary>
    public DateTimeOffset? LastBatchAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }

    public const int MaxErrorsKept = 20;
    public const int MaxErrorLength = 2000;

    /// <summary>An error for <see cref="Error"/>, made storable and clipped.</summary>
    public static string StorableError(string message)
    {
        var storable = StorableText.Sanitize(message)!;
        return storable.Length <= MaxErrorLength ? storable : StorableText.Sanitize(storable[..MaxErrorLength])!;
    }
}

/// <summary>The text encodings an import reads, by the names stored and accepted in the <c>encoding</c> field.</summary>
public static class ImportEncodings
{
    public const string Utf8 = "utf-8";
    public const string Latin1 = "latin1";

    public static readonly IReadOnlyList<string> All = [Utf8, Latin1];

    /// <summary>The stored name of an encoding as a client may write it (<c>UTF8</c>, <c>iso-8859-1</c>), or null when unknown.</summary>
    public static string? Normalize(string? given) => given?.Trim().ToLowerInvariant() switch
    {
        null or "" or "utf-8" or "utf8" => Utf8,
        "latin1" or "latin-1" or "iso-8859-1" or "iso8859-1" => Latin1,
        _ => null,
    };
}
