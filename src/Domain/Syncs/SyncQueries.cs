using Microsoft.EntityFrameworkCore;
using Monolith.Domain.Persistence;

namespace Monolith.Domain.Syncs;

/// <summary>
/// What clients read about syncs (scoped like jobs: a tenant, or null for the admin) and snapshots (always one
/// tenant's records: a snapshot name means something only within its tenant).
/// </summary>
public sealed class SyncQueries(MonolithDbContext db)
{
    public const int MaxPageSize = 200;
    public const int MaxRecordPageSize = 1000;

    public Task<Sync?> GetAsync(Guid? tenantId, Guid syncId, CancellationToken ct) =>
        Syncs(tenantId).AsNoTracking().FirstOrDefaultAsync(s => s.Id == syncId, ct);

    /// <summary>One page of syncs, newest first (ids are UUIDv7); the cursor is the last id seen. Read from <c>ix_syncs_tenant_id</c>.</summary>
    public Task<List<Sync>> ListAsync(Guid? tenantId, string? snapshot, Guid? after, int limit, CancellationToken ct)
    {
        var query = Syncs(tenantId).AsNoTracking();
        if (snapshot is not null) query = query.Where(s => s.Snapshot == snapshot);
        if (after is { } cursor) query = query.Where(s => s.Id < cursor);
        return query.OrderByDescending(s => s.Id).Take(Math.Clamp(limit, 1, MaxPageSize)).ToListAsync(ct);
    }

    /// <summary>
    /// One page of a snapshot's records in external-id order (keyset: ids after <paramref name="afterExternalId"/>,
    /// a range scan of the primary key). <paramref name="containsJson"/>, when given, is a jsonb object the record
    /// must contain (<c>data @&gt; …</c>, served by the GIN index <c>ix_snapshot_records_data</c>).
    /// </summary>
    public Task<List<SnapshotRecord>> RecordsAsync(
        Guid tenantId, string snapshot, string? afterExternalId, string? containsJson, int limit, CancellationToken ct) =>
        db.SnapshotRecords.FromSql($"""
            SELECT * FROM snapshot_records
            WHERE tenant_id = {tenantId} AND snapshot = {snapshot}
              AND ({afterExternalId}::text IS NULL OR external_id > {afterExternalId})
              AND ({containsJson}::jsonb IS NULL OR data @> {containsJson}::jsonb)
            ORDER BY external_id
            LIMIT {Math.Clamp(limit, 1, MaxRecordPageSize)}
            """).AsNoTracking().ToListAsync(ct);

    public Task<SnapshotRecord?> RecordAsync(Guid tenantId, string snapshot, string externalId, CancellationToken ct) =>
        db.SnapshotRecords.AsNoTracking()
            .FirstOrDefaultAsync(r => r.TenantId == tenantId && r.Snapshot == snapshot && r.ExternalId == externalId, ct);

    private IQueryable<Sync> Syncs(Guid? tenantId) => tenantId is { } id ? db.Syncs.Where(s => s.TenantId == id) : db.Syncs;
}
