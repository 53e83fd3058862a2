using Microsoft.EntityFrameworkCore;
using Monolith.Domain.Persistence;
using Monolith.Domain.Transfers;
using Monolith.Worker.Engine;
using Monolith.Worker.Storage;

namespace Monolith.Worker.Jobs.Transfers;

/// <summary>
/// <c>{type: "upload", uploadId}</c>: a document of the same tenant stored by <c>POST /v1/uploads</c>. Its bytes must
/// have the size and SHA-256 recorded when it was uploaded; a stored file that no longer does fails the transfer.
/// </summary>
public sealed class UploadSource(MonolithDbContext db, IFileStore store) : ISource
{
    public string Type => TransferSource.UploadType;

    public async Task<SourceDocument> OpenAsync(Transfer transfer, TransferSource source, CancellationToken ct)
    {
        var uploadId = source.UploadId ?? throw new PermanentJobException("The source names no upload.");
        var upload = await db.Uploads.AsNoTracking().FirstOrDefaultAsync(u => u.Id == uploadId && u.TenantId == transfer.TenantId, ct)
            ?? throw new PermanentJobException($"The source upload {uploadId} does not exist (it was deleted, or belongs to another tenant).");
        Stream content;
        try
        {
            // The transfer checks the upload's recorded SHA-256 of every byte (TransferStream), so the store need not
            // hash them too; a changed stored file fails as a checksum mismatch, at once.
            content = await store.OpenReadAsync(upload.StorageKey, ct, callerChecksContent: true);
        }
        catch (StoredFileNotFoundException)
        {
            throw new PermanentJobException($"The stored file of upload {uploadId} is missing.");
        }
        return new SourceDocument(content, upload.SizeBytes, upload.ContentType, upload.FileName,
            ExpectedSha256: upload.Sha256, ExpectedLength: upload.SizeBytes);
    }
}
