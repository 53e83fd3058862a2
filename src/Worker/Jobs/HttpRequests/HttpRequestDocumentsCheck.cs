using Microsoft.EntityFrameworkCore;
using Monolith.Domain.Persistence;
using Monolith.Worker.Engine;

namespace Monolith.Worker.Jobs.HttpRequests;

/// <summary>
/// At submit: every upload a payload's <c>documents</c> name is one the submitting tenant can see, and usable
/// (<see cref="Monolith.Domain.Uploads.Upload.IsUsable"/>: a pre-signed upload once completed). One query.
/// </summary>
public sealed class HttpRequestDocumentsCheck(MonolithDbContext db) : IPayloadCheck<HttpRequestPayload>
{
    public async Task<Dictionary<string, string[]>> CheckAsync(HttpRequestPayload payload, Guid tenantId, CancellationToken ct)
    {
        if (payload.Documents is not { Count: > 0 } documents) return [];
        var ids = documents.Select(d => d.UploadId!.Value).Distinct().ToList();
        var visible = await db.Uploads.AsNoTracking().Where(u => u.TenantId == tenantId && ids.Contains(u.Id)).ToDictionaryAsync(u => u.Id, ct);
        var errors = new Dictionary<string, string[]>();
        for (var i = 0; i < documents.Count; i++)
        {
            var id = documents[i].UploadId!.Value;
            var refused = !visible.TryGetValue(id, out var upload) ? $"No upload {id} is visible to this API key." : upload.UnusableReason;
            if (refused is not null) errors[$"documents[{i}].uploadId"] = [refused];
        }
        return errors;
    }
}
