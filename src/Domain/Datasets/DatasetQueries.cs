using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Monolith.Domain.Persistence;

namespace Monolith.Domain.Datasets;

/// <summary>
/// What clients read about datasets and the names they hold. Datasets are scoped like jobs (a tenant, or null for
/// the admin); name queries always cover one tenant's records only, only real names (not aggregate rows), and national
/// records unless a region (a US state) is asked for.
/// </summary>
public sealed class DatasetQueries(MonolithDbContext db)
{
    public const int MaxTopLimit = 1000;

    public Task<Dataset?> GetAsync(Guid? tenantId, Guid datasetId, CancellationToken ct) =>
        (tenantId is { } id ? db.Datasets.Where(d => d.TenantId == id) : db.Datasets)
            .AsNoTracking()
            .FirstOrDefaultAsync(d => d.Id == datasetId, ct);

    public const int MaxPageSize = 200;

    /// <summary>
    /// One page of datasets, newest first (ids are UUIDv7): the cursor is the last id seen, as for jobs. Read from
    /// <c>ix_datasets_tenant_id</c>.
    /// </summary>
    public Task<List<Dataset>> ListAsync(Guid? tenantId, string? country, Guid? after, int limit, CancellationToken ct)
    {
        var query = (tenantId is { } id ? db.Datasets.Where(d => d.TenantId == id) : db.Datasets).AsNoTracking();
        if (country is not null) query = query.Where(d => d.Country == country);
        if (after is { } cursor) query = query.Where(d => d.Id < cursor);
        return query.OrderByDescending(d => d.Id).Take(Math.Clamp(limit, 1, MaxPageSize)).ToListAsync(ct);
    }

    /// <summary>
    /// One name's count per year (both sexes summed unless <paramref name="sex"/> is given), oldest year first;
    /// national records (region null) unless <paramref name="region"/> names a state. A range scan of
    /// <c>ix_name_records_name</c>.
    /// </summary>
    public Task<List<YearCount>> CountsPerYearAsync(Guid tenantId, string country, string? region, string name, string? sex, CancellationToken ct) =>
        db.Database.SqlQuery<YearCount>(FormattableStringFactory.Create($$"""
            SELECT year AS "Year", sum(count)::bigint AS "Count"
            FROM name_records
            WHERE tenant_id = {0} AND country = {1} AND {{RegionFilter("region", region)}} AND name = {3} AND kind = 'name'
              AND ({4}::text IS NULL OR sex = {4}) AND year IS NOT NULL
            GROUP BY year
            ORDER BY year
            """, tenantId, country, region ?? "", name, sex)).ToListAsync(ct);

    /// <summary>
    /// One year's most given names, largest count first (ties by name). Each sex is read in index order from
    /// <c>ix_name_records_top</c> and stops after <paramref name="limit"/> rows; without a sex the two short
    /// lists are merged. National records unless <paramref name="region"/> names a state.
    /// </summary>
    public Task<List<NameCount>> TopAsync(Guid tenantId, string country, string? region, int year, string? sex, int limit, CancellationToken ct)
    {
        limit = Math.Clamp(limit, 1, MaxTopLimit);
        return db.Database.SqlQuery<NameCount>(FormattableStringFactory.Create($$"""
            SELECT t."Name", t."Sex", t."Count"
            FROM unnest(CASE WHEN {4}::text IS NULL THEN ARRAY['F', 'M'] ELSE ARRAY[{4}::text] END) AS s(sex)
            CROSS JOIN LATERAL (
                SELECT r.name AS "Name", r.sex AS "Sex", r.count AS "Count"
                FROM name_records r
                WHERE r.tenant_id = {0} AND r.country = {1} AND {{RegionFilter("r.region", region)}} AND r.year = {3} AND r.sex = s.sex
                  AND r.kind = 'name'
                ORDER BY r.count DESC, r.name
                LIMIT {5}) t
            ORDER BY t."Count" DESC, t."Name", t."Sex"
            LIMIT {5}
            """, tenantId, country, region ?? "", year, sex, limit)).ToListAsync(ct);
    }

    /// <summary>
    /// <c>region IS NULL</c> (national) or <c>region = {2}</c>: two texts rather than one OR, so that either is a
    /// plain condition on the index's region column.
    /// </summary>
    private static string RegionFilter(string column, string? region) => region is null ? $"{column} IS NULL AND {{2}} = ''" : $"{column} = {{2}}";
}

public sealed record YearCount(int Year, long Count);

public sealed record NameCount(string Name, string Sex, int Count);
