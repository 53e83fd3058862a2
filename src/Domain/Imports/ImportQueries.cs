using Microsoft.EntityFrameworkCore;
using Monolith.Domain.Persistence;

namespace Monolith.Domain.Imports;

/// <summary>What clients read about imports, scoped like jobs (a tenant, or null for the admin). Their records are read as a sync's are (<c>SyncQueries.RecordsAsync</c>).</summary>
public sealed class ImportQueries(MonolithDbContext db)
{
    public const int MaxPageSize = 200;

    public Task<Import?> GetAsync(Guid? tenantId, Guid importId, CancellationToken ct) =>
        Imports(tenantId).AsNoTracking().FirstOrDefaultAsync(i => i.Id == importId, ct);

    /// <summary>One page of imports, newest first (ids are UUIDv7); the cursor is the last id seen. Read from <c>ix_imports_tenant_id</c>.</summary>
    public Task<List<Import>> ListAsync(Guid? tenantId, string? snapshot, Guid? after, int limit, CancellationToken ct)
    {
        var query = Imports(tenantId).AsNoTracking();
        if (snapshot is not null) query = query.Where(i => i.Snapshot == snapshot);
        if (after is { } cursor) query = query.Where(i => i.Id < cursor);
        return query.OrderByDescending(i => i.Id).Take(Math.Clamp(limit, 1, MaxPageSize)).ToListAsync(ct);
    }

    private IQueryable<Import> Imports(Guid? tenantId) => tenantId is { } id ? db.Imports.Where(i => i.TenantId == id) : db.Imports;
}
