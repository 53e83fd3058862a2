using Microsoft.EntityFrameworkCore;
using Monolith.Domain.Persistence;

namespace Monolith.Domain.Transfers;

/// <summary>What clients read about transfers and uploads, scoped like jobs (a tenant, or null for the admin).</summary>
public sealed class TransferQueries(MonolithDbContext db)
{
    public const int MaxPageSize = 200;

    public Task<Transfer?> GetAsync(Guid? tenantId, Guid transferId, CancellationToken ct) =>
        (tenantId is { } id ? db.Transfers.Where(t => t.TenantId == id) : db.Transfers)
            .AsNoTracking()
            .FirstOrDefaultAsync(t => t.Id == transferId, ct);

    /// <summary>One page, newest first (ids are UUIDv7): the cursor is the last id seen, as for jobs.</summary>
    public Task<List<Transfer>> ListAsync(Guid? tenantId, Guid? after, int limit, CancellationToken ct)
    {
        var query = (tenantId is { } id ? db.Transfers.Where(t => t.TenantId == id) : db.Transfers).AsNoTracking();
        if (after is { } cursor) query = query.Where(t => t.Id < cursor);
        return query.OrderByDescending(t => t.Id).Take(Math.Clamp(limit, 1, MaxPageSize)).ToListAsync(ct);
    }

    public Task<Uploads.Upload?> GetUploadAsync(Guid? tenantId, Guid uploadId, CancellationToken ct) =>
        (tenantId is { } id ? db.Uploads.Where(u => u.TenantId == id) : db.Uploads)
            .AsNoTracking()
            .FirstOrDefaultAsync(u => u.Id == uploadId, ct);
}
