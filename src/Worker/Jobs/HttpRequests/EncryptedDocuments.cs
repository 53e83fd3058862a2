using Microsoft.EntityFrameworkCore;
using Monolith.Domain.Persistence;
using Monolith.Worker.Engine;
using Monolith.Worker.Storage;

namespace Monolith.Worker.Jobs.HttpRequests;

/// <summary>
/// The documents of a vendor call, before anything is sent: each upload is looked up for the job's tenant and its
/// stored cipher text decrypted once with the payload's key and IV, the plain bytes dropped
/// (<see cref="DocumentCipher.VerifyAsync"/>). Any that does not decrypt fails the job at once, naming the document,
/// so a wrong key or a changed cipher text never reaches the vendor, not even in part.
/// </summary>
public sealed class EncryptedDocuments(MonolithDbContext db, IFileStore store)
{
    public async Task<IReadOnlyList<VerifiedDocument>> VerifyAsync(IReadOnlyList<HttpRequestDocument> documents, Guid tenantId, CancellationToken ct)
    {
        var ids = documents.Select(d => d.UploadId!.Value).Distinct().ToList();
        var uploads = await db.Uploads.AsNoTracking().Where(u => u.TenantId == tenantId && ids.Contains(u.Id)).ToDictionaryAsync(u => u.Id, ct);
        var verified = new List<VerifiedDocument>(documents.Count);
        for (var i = 0; i < documents.Count; i++)
        {
            var document = documents[i];
            var id = document.UploadId!.Value;
            var what = $"Document {i} (upload {id})";
            if (!uploads.TryGetValue(id, out var upload))
            {
                throw new PermanentJobException($"{what} does not exist (it was deleted, or belongs to another tenant).");
            }
            if (upload.UnusableReason is { } unusable) throw new PermanentJobException($"{what}: {unusable}");
            if (upload.SizeBytes < DocumentCipher.TagBytes)
            {
                throw new PermanentJobException($"{what} cannot be decrypted: {upload.SizeBytes} bytes is shorter than the {DocumentCipher.TagBytes}-byte AES-GCM tag.");
            }
            var item = new VerifiedDocument(document, Convert.FromBase64String(document.Key!), Convert.FromBase64String(document.Iv!),
                upload.StorageKey, upload.SizeBytes, document.FileName ?? upload.FileName, document.ContentType ?? upload.ContentType);
            try
            {
                await using var cipher = await store.OpenReadAsync(upload.StorageKey, ct);
                await DocumentCipher.VerifyAsync(cipher, item.Key, item.Iv, item.CipherLength, ct);
            }
            catch (StoredFileNotFoundException)
            {
                throw new PermanentJobException($"{what}: the stored file is missing.");
            }
            catch (DocumentUnreadableException ex)
            {
                throw new PermanentJobException($"{what} cannot be decrypted: {ex.Message} Nothing was sent to the vendor.");
            }
            verified.Add(item);
        }
        return verified;
    }

    /// <summary>The request body carrying <paramref name="verified"/> (<see cref="DocumentRequestBody"/>), decrypted from the store as it is sent.</summary>
    public HttpContent RequestBody(HttpRequestPayload payload, IReadOnlyList<VerifiedDocument> verified) => DocumentRequestBody.Create(payload, verified, store);
}
