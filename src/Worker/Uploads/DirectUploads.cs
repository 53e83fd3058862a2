using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Monolith.Domain.Persistence;
using Monolith.Domain.Transfers;
using Monolith.Domain.Uploads;
using Monolith.Worker.Jobs.Transfers;
using Monolith.Worker.Storage;

namespace Monolith.Worker.Uploads;

/// <summary>
/// Pre-signed uploads (docs/uploads.md): the client declares a document, PUTs its bytes straight to the store with a
/// pre-signed URL, and asks the service to complete it; the service verifies what was PUT against what was declared
/// and only then makes the upload ready (<see cref="Upload.IsUsable"/>).
/// <para>
/// The PUT lands under the upload's <see cref="Upload.IncomingKey"/>. Completion checks the size and Content-Type the
/// store reports, then copies the object to a key of its own, hashing it as it streams through this node (SHA-256;
/// the store's own checksums are checked as it is read), so the bytes kept are exactly the bytes verified even if the client PUTs again
/// while its URL still works; the row then points at that copy, set only if the upload is still pending (of two
/// racing completions one wins, the other removes its copy).
/// </para>
/// </summary>
public sealed class DirectUploads(MonolithDbContext db, TransferQueries queries, IFileStore store, IOptions<DirectUploadOptions> options, ILogger<DirectUploads> logger)
{
    /// <summary>
    /// Records a pending upload and signs the PUT that fills it; <see cref="DirectUploadStarted.NotSupported"/> (nothing
    /// written) when the file store takes no direct uploads (the local disk).
    /// </summary>
    public async Task<DirectUploadStarted> StartAsync(Guid tenantId, NewDirectUpload input, CancellationToken ct)
    {
        if (store is not IDirectUploadStore direct) return DirectUploadStarted.NotSupported;
        var now = DateTimeOffset.UtcNow;
        var lifetime = Math.Min(input.ExpiresInSeconds ?? int.MaxValue, options.Value.PresignedExpirySeconds);
        var id = Guid.CreateVersion7();
        var upload = new Upload
        {
            Id = id,
            TenantId = tenantId,
            StorageKey = $"uploads/{tenantId}/{id}",
            FileName = input.FileName,
            SizeBytes = input.SizeBytes,
            Sha256 = input.Sha256,
            ContentType = input.ContentType,
            CreatedAt = now,
            State = UploadState.Pending,
            ExpiresAt = now.AddSeconds(lifetime),
        };
        var put = direct.PresignPut(upload.IncomingKey, upload.ContentType, upload.ExpiresAt.Value);
        db.Uploads.Add(upload);
        await db.SaveChangesAsync(ct);
        return new DirectUploadStarted(upload, put);
    }

    /// <summary>
    /// Verifies a pending upload's bytes and makes it ready, or fails it (its objects deleted) naming the declared field
    /// the bytes contradict. A ready upload is answered as ready again; one with nothing PUT yet stays pending.
    /// </summary>
    public async Task<UploadCompletion> CompleteAsync(Guid? tenantScope, Guid id, CancellationToken ct)
    {
        if (await ReadAsync(tenantScope, id, ct) is not { } upload) return new(UploadCompletionStatus.NotFound, null);
        switch (upload.State)
        {
            case UploadState.Ready: return new(UploadCompletionStatus.Ready, upload);
            case UploadState.Failed: return new(UploadCompletionStatus.Failed, upload);
        }
        if (upload.ExpiresAt is { } expiresAt && DateTimeOffset.UtcNow > expiresAt.AddSeconds(options.Value.PendingGraceSeconds))
        {
            return new(UploadCompletionStatus.Expired, upload);
        }
        if (store is not IDirectUploadStore direct) return new(UploadCompletionStatus.NotPut, upload);

        StoredObjectInfo info;
        try
        {
            info = await direct.InfoAsync(upload.IncomingKey, ct);
        }
        catch (StoredFileNotFoundException)
        {
            return await SettledAsync(tenantScope, upload, UploadCompletionStatus.NotPut, ct);
        }
        if (MismatchOf(upload, info) is { } early) return await FailAsync(tenantScope, upload, early, copy: null, ct);

        var copy = $"{upload.StorageKey}.{Guid.NewGuid():N}";
        long size;
        string sha256;
        try
        {
            (size, sha256) = await CopyHashingAsync(upload.IncomingKey, copy, ct);
        }
        catch (StoredFileNotFoundException)
        {
            return await SettledAsync(tenantScope, upload, UploadCompletionStatus.NotPut, ct); // a racing completion took it
        }
        try
        {
            var mismatch = size != upload.SizeBytes
                ? new UploadMismatch("sizeBytes", $"The object PUT has {size} bytes, not the {upload.SizeBytes} declared.")
                : sha256 != upload.Sha256
                    ? new UploadMismatch("sha256", $"The object PUT has SHA-256 {sha256}, not the {upload.Sha256} declared.")
                    : null;
            if (mismatch is not null) return await FailAsync(tenantScope, upload, mismatch, copy, ct);

            var marked = await db.Uploads.Where(u => u.Id == id && u.State == UploadState.Pending)
                .ExecuteUpdateAsync(s => s.SetProperty(u => u.State, UploadState.Ready).SetProperty(u => u.StorageKey, copy), ct);
            if (marked == 0)
            {
                await store.DeleteQuietlyAsync(copy);
                return await SettledAsync(tenantScope, upload, UploadCompletionStatus.NotFound, ct);
            }
            copy = null;
            await store.DeleteQuietlyAsync(upload.IncomingKey);
            return new(UploadCompletionStatus.Ready, await ReadAsync(tenantScope, id, ct));
        }
        catch when (copy is not null)
        {
            await store.DeleteQuietlyAsync(copy);
            throw;
        }
    }

    /// <summary>
    /// Removes uploads still pending past their URL's expiry and the grace period, with their objects, in batches; returns
    /// how many. Each row is deleted only if still pending, so an upload completed meanwhile stays.
    /// </summary>
    public async Task<int> RemoveExpiredAsync(DateTimeOffset now, CancellationToken ct)
    {
        var cutoff = now.AddSeconds(-options.Value.PendingGraceSeconds);
        var removed = 0;
        while (!ct.IsCancellationRequested)
        {
            var expired = await db.Uploads.AsNoTracking()
                .Where(u => u.State == UploadState.Pending && u.ExpiresAt < cutoff)
                .OrderBy(u => u.ExpiresAt).Take(100).ToListAsync(ct);
            foreach (var upload in expired)
            {
                if (await db.Uploads.Where(u => u.Id == upload.Id && u.State == UploadState.Pending).ExecuteDeleteAsync(ct) == 0) continue;
                await store.DeleteQuietlyAsync(upload.IncomingKey);
                removed++;
            }
            if (expired.Count < 100) break;
        }
        if (removed > 0) logger.LogInformation("Removed {Count} pre-signed upload(s) never completed", removed);
        return removed;
    }

    /// <summary>The size and Content-Type the store reports, against the declared ones (the cheap checks, before any copy).</summary>
    private static UploadMismatch? MismatchOf(Upload upload, StoredObjectInfo info) =>
        info.SizeBytes != upload.SizeBytes
            ? new UploadMismatch("sizeBytes", $"The object PUT has {info.SizeBytes} bytes, not the {upload.SizeBytes} declared.")
            : !string.Equals(info.ContentType, upload.ContentType, StringComparison.OrdinalIgnoreCase)
                ? new UploadMismatch("contentType", $"The object PUT has Content-Type '{info.ContentType}', not the '{upload.ContentType}' declared.")
                : null;

    /// <summary>
    /// Copies the object PUT to <paramref name="copy"/>, hashing it on the way (one read, streamed, never whole in memory;
    /// the store checks its own checksums as it reads); its byte count and lower-case hex SHA-256.
    /// </summary>
    private async Task<(long Size, string Sha256)> CopyHashingAsync(string incoming, string copy, CancellationToken ct)
    {
        await using var content = await store.OpenReadAsync(incoming, ct);
        await using var hashing = new TransferStream(content, expectedSha256: null, expectedLength: null);
        var size = await store.WriteAsync(copy, hashing, ct);
        return (size, hashing.Sha256!);
    }

    /// <summary>Marks the upload failed (if still pending) and deletes what was PUT and its copy.</summary>
    private async Task<UploadCompletion> FailAsync(Guid? tenantScope, Upload upload, UploadMismatch mismatch, string? copy, CancellationToken ct)
    {
        if (copy is not null) await store.DeleteQuietlyAsync(copy);
        var marked = await db.Uploads.Where(u => u.Id == upload.Id && u.State == UploadState.Pending)
            .ExecuteUpdateAsync(s => s.SetProperty(u => u.State, UploadState.Failed), ct);
        if (marked == 0) return await SettledAsync(tenantScope, upload, UploadCompletionStatus.NotFound, ct);
        await store.DeleteQuietlyAsync(upload.IncomingKey);
        upload.State = UploadState.Failed;
        return new(UploadCompletionStatus.Mismatch, upload, mismatch);
    }

    /// <summary>
    /// The answer when this completion could not finish: what a racing one (or the cleaner) made of the upload, else
    /// <paramref name="otherwise"/>.
    /// </summary>
    private async Task<UploadCompletion> SettledAsync(Guid? tenantScope, Upload seen, UploadCompletionStatus otherwise, CancellationToken ct) =>
        await ReadAsync(tenantScope, seen.Id, ct) switch
        {
            null => new(UploadCompletionStatus.NotFound, null),
            { State: UploadState.Ready } now => new(UploadCompletionStatus.Ready, now),
            { State: UploadState.Failed } now => new(UploadCompletionStatus.Failed, now),
            var now => new(otherwise, now),
        };

    private Task<Upload?> ReadAsync(Guid? tenantScope, Guid id, CancellationToken ct) => queries.GetUploadAsync(tenantScope, id, ct);
}
