namespace Monolith.Domain.Datasets;

/// <summary>
/// One line of a names file: how many babies of one sex got one name in one year, in one country. Written only
/// by binary COPY (Worker/Jobs/Datasets); the tenant and country are copied from the dataset so that queries
/// need no join.
/// </summary>
public sealed class NameRecord
{
    public long Id { get; set; }
    public Guid DatasetId { get; set; }
    public Guid TenantId { get; set; }
    public string Country { get; set; } = "";

    /// <summary>The state of a US by-state record (<c>AK</c>); null for a national record. Name queries read national records unless asked for a region.</summary>
    public string? Region { get; set; }

    /// <summary>Null for an aggregate row whose year is unknown (France's <c>XXXX</c>).</summary>
    public int? Year { get; set; }

    /// <summary><c>F</c> or <c>M</c>.</summary>
    public string Sex { get; set; } = "";
    public string Name { get; set; } = "";
    public int Count { get; set; }

    /// <summary>
    /// <see cref="NameRecordKinds.Name"/> for a real first name; <see cref="NameRecordKinds.Aggregate"/> for a row
    /// that sums names rather than being one (France's <c>_PRENOMS_RARES</c>, year <c>XXXX</c>): kept, but out of
    /// the name queries.
    /// </summary>
    public string Kind { get; set; } = NameRecordKinds.Name;
}

public static class NameRecordKinds
{
    public const string Name = "name";
    public const string Aggregate = "aggregate";
}
