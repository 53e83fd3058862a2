using Microsoft.EntityFrameworkCore;
using Monolith.Domain.Persistence;

namespace Monolith.Domain.Datasets;

/// <summary>
/// What clients read about datasets and the names they hold. Datasets are scoped like jobs (a tenant, or null for
/// the admin); name queries always cover one tenant's records only, and only real names (not aggregate rows).
/// </summary>
public sealed class DatasetQueries(MonolithDbContext db)
{
    public const int MaxTopLimit = 1000;

    public Task<Dataset?> GetAsync(Guid? tenantId, Guid datasetId, CancellationToken ct) =>
        (tenantId is { } id ? db.Datasets.Where(d => d.TenantId == id) : db.Datasets)
            .AsNoTracking()
            .FirstOrDefaultAsync(d => d.Id == datasetId, ct);

    /// <summary>
    /// One name's count per year (both sexes summed unless <paramref name="sex"/> is given), oldest year first;
    /// a range scan of <c>ix_name_records_name</c>.
    /// </summary>
    public Task<List<YearCount>> CountsPerYearAsync(Guid tenantId, string country, string name, string? sex, CancellationToken ct) =>
        db.Database.SqlQuery<YearCount>($"""
            SELECT year AS "Year", sum(count)::bigint AS "Count"
            FROM name_records
            WHERE tenant_id = {tenantId} AND country = {country} AND name = {name} AND kind = 'name'
              AND ({sex}::text IS NULL OR sex = {sex}) AND year IS NOT NULL
            GROUP BY year
            ORDER BY year
            """).ToListAsync(ct);

    /// <summary>
    /// One year's most given names, largest count first (ties by name). Each sex is read in index order from
    /// <c>ix_name_records_top</c> and stops after <paramref name="limit"/> rows; without a sex the two short
    /// lists are merged.
    /// </summary>
    public Task<List<NameCount>> TopAsync(Guid tenantId, string country, int year, string? sex, int limit, CancellationToken ct)
    {
        limit = Math.Clamp(limit, 1, MaxTopLimit);
        return db.Database.SqlQuery<NameCount>($"""
            SELECT t."Name", t."Sex", t."Count"
            FROM unnest(CASE WHEN {sex}::text IS NULL THEN ARRAY['F', 'M'] ELSE ARRAY[{sex}::text] END) AS s(sex)
            CROSS JOIN LATERAL (
                SELECT r.name AS "Name", r.sex AS "Sex", r.count AS "Count"
                FROM name_records r
                WHERE r.tenant_id = {tenantId} AND r.country = {country} AND r.year = {year} AND r.sex = s.sex
                  AND r.kind = 'name'
                ORDER BY r.count DESC, r.name
                LIMIT {limit}) t
            ORDER BY t."Count" DESC, t."Name", t."Sex"
            LIMIT {limit}
            """).ToListAsync(ct);
    }
}

public sealed record YearCount(int Year, long Count);

public sealed record NameCount(string Name, string Sex, int Count);
