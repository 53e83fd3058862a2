using Monolith.Domain.Jobs;

namespace Monolith.Domain.Datasets;

/// <summary>
/// One uploaded names file: where it is stored, how far its parse got, and what it yielded. Its records are in
/// <see cref="NameRecord"/>; they are written in the same transaction that marks the dataset completed.
/// </summary>
public sealed class Dataset : IJobRow
{
    /// <summary>UUIDv7, so ids sort by creation time.</summary>
    public Guid Id { get; set; }
    public Guid TenantId { get; set; }

    /// <summary>ISO 3166-1 alpha-2, upper case (<c>US</c>).</summary>
    public string Country { get; set; } = "";

    /// <summary>The file format's stable name (<c>us_yob</c>).</summary>
    public string Format { get; set; } = "";

    /// <summary>The file name the client uploaded; some formats take the year from it (<c>yob2020.txt</c>).</summary>
    public string FileName { get; set; } = "";

    /// <summary>Where the file store keeps the bytes.</summary>
    public string StorageKey { get; set; } = "";
    public long SizeBytes { get; set; }

    public DatasetState State { get; set; }
    public long RowsInserted { get; set; }
    public long RowsRejected { get; set; }

    /// <summary>Of <see cref="RowsInserted"/>, the aggregate rows (France's <c>_PRENOMS_RARES</c> and year <c>XXXX</c>).</summary>
    public long AggregateRows { get; set; }

    /// <summary>
    /// Of <see cref="RowsInserted"/>, the rows a later dataset replaced: the newest completed dataset holds each
    /// (country, region, year) of a tenant (docs/datasets.md, "One dataset per scope").
    /// </summary>
    public long RowsSuperseded { get; set; }

    /// <summary>The dataset that last replaced rows of this one.</summary>
    public Guid? SupersededBy { get; set; }

    /// <summary>The first rejected lines, a JSON array of <see cref="DatasetLineError"/> (jsonb, at most <see cref="MaxErrorsKept"/>).</summary>
    public string FirstErrors { get; set; } = "[]";

    /// <summary>Why the dataset failed, when it did.</summary>
    public string? Error { get; set; }

    /// <summary>The <c>parse_dataset</c> job that processes it.</summary>
    public Guid? JobId { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }

    public const int MaxErrorsKept = 20;
}

/// <summary>One rejected line: where (the file inside a zip, the line number from 1) and why.</summary>
public sealed record DatasetLineError(long Line, string Reason, string? File = null);
