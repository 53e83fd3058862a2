using Microsoft.EntityFrameworkCore;
using Monolith.Domain.Persistence;
using Monolith.Worker.Engine;

namespace Monolith.Worker.Jobs.HttpRequests;

/// <summary>At submit: every upload a payload's <c>documents</c> name is one the submitting tenant can see (one query).</summary>
public sealed class HttpRequestDocumentsCheck(MonolithDbContext db) : IPayloadCheck<HttpRequestPayload>
{
    public async Task<Dictionary<string, string[]>> CheckAsync(HttpRequestPayload payload, Guid tenantId, CancellationToken ct)
    {
        if (payload.Documents is not { Count: > 0 } documents) return [];
        var ids = documents.Select(d => d.UploadId!.Value).Distinct().ToList();
        var visible = await db.Uploads.AsNoTracking().Where(u => u.TenantId == tenantId && ids.Contains(u.Id)).Select(u => u.Id).ToListAsync(ct);
        return documents
            .Select((d, i) => (d.UploadId!.Value, i))
            .Where(d => !visible.Contains(d.Value))
            .ToDictionary(d => $"documents[{d.i}].uploadId", d => new[] { $"No upload {d.Value} is visible to this API key." });
    }
}
