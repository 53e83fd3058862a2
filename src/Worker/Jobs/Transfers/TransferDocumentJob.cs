using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Monolith.Domain.Persistence;
using Monolith.Domain.Transfers;
using Monolith.Worker.Engine;
using Monolith.Worker.Outbound;

namespace Monolith.Worker.Jobs.Transfers;

/// <summary>
/// Moves one document from its source to its destination (docs/transfers.md): streamed through one
/// <see cref="TransferStream"/> (a fixed buffer, hashed and verified on the way), with the outcome recorded on the
/// transfer. Failures follow <see cref="OutboundFailures"/>: network errors, timeouts, 5xx, 408 and 429 are retried
/// (429 and 503 no sooner than their Retry-After), other 4xx, a missing source and a checksum mismatch fail at once.
/// <para>
/// Idempotent: a completed transfer is not sent again; the HTTP destination gets the same Idempotency-Key on every
/// attempt, and the directory destination renames a verified temporary file into place.
/// </para>
/// </summary>
public sealed class TransferDocumentJob(
    MonolithDbContext db,
    IEnumerable<ISource> sources,
    IEnumerable<IDestination> destinations,
    IOptions<TransferOptions> options,
    ILogger<TransferDocumentJob> logger) : IJobHandler<TransferDocumentPayload>
{
    public async Task<object?> HandleAsync(TransferDocumentPayload payload, JobContext context, CancellationToken ct)
    {
        var transfer = await db.Transfers.AsNoTracking()
            .FirstOrDefaultAsync(t => t.Id == payload.TransferId && t.TenantId == context.TenantId, ct)
            ?? throw new PermanentJobException($"Transfer {payload.TransferId} does not exist (or belongs to another tenant).");
        if (transfer.State == TransferState.Completed) return Result(transfer); // done; only recording the job's outcome was lost

        var id = transfer.Id;
        var now = DateTimeOffset.UtcNow;
        var started = await db.Transfers.Where(t => t.Id == id && t.State != TransferState.Completed).ExecuteUpdateAsync(s => s
            .SetProperty(t => t.State, TransferState.Running)
            .SetProperty(t => t.JobId, context.JobId)
            .SetProperty(t => t.StartedAt, now)
            .SetProperty(t => t.FinishedAt, (DateTimeOffset?)null)
            .SetProperty(t => t.BytesMoved, 0)
            .SetProperty(t => t.Error, (string?)null), ct);
        if (started == 0) return Result(await db.Transfers.AsNoTracking().FirstAsync(t => t.Id == id, ct));

        var sourceSpec = transfer.ReadSource();
        var destinationSpec = transfer.ReadDestination();
        var source = sources.FirstOrDefault(s => s.Type == sourceSpec.Type)
            ?? throw new PermanentJobException($"Unknown source type '{sourceSpec.Type}'.");
        var destination = destinations.FirstOrDefault(d => d.Type == destinationSpec.Type)
            ?? throw new PermanentJobException($"Unknown destination type '{destinationSpec.Type}'.");

        TransferStream? stream = null;
        SourceDocument? document = null;
        try
        {
            document = await source.OpenAsync(transfer, sourceSpec, ct);
            var size = document.Length ?? document.ExpectedLength;
            stream = new TransferStream(document.Content, document.ExpectedSha256, document.ExpectedLength,
                (bytes, token) => ReportAsync(context, id, bytes, size, token), options.Value.ProgressIntervalBytes);
            var outgoing = new OutgoingDocument(id, transfer.TenantId, IdempotencyKey(id), stream, document.Length, document.ContentType, document.FileName,
                transfer.ReadMetadata());
            DestinationAnswer answer;
            try
            {
                answer = await destination.SendAsync(destinationSpec, outgoing, ct);
            }
            finally
            {
                await stream.ProgressWrittenAsync(); // the report shares this job's DbContext: never two queries at once
            }

            var finished = DateTimeOffset.UtcNow;
            await db.Transfers.Where(t => t.Id == id).ExecuteUpdateAsync(s => s
                .SetProperty(t => t.State, TransferState.Completed)
                .SetProperty(t => t.BytesMoved, stream.BytesDelivered)
                .SetProperty(t => t.SizeBytes, stream.BytesDelivered)
                .SetProperty(t => t.Sha256, stream.Sha256)
                .SetProperty(t => t.DestinationStatus, answer.Status)
                .SetProperty(t => t.DestinationLocation, answer.Location)
                .SetProperty(t => t.FinishedAt, finished)
                .SetProperty(t => t.Error, (string?)null), CancellationToken.None);
            logger.LogInformation("Transfer {TransferId} completed: {Bytes} bytes from {SourceType} to {DestinationType}, SHA-256 {Sha256}",
                id, stream.BytesDelivered, sourceSpec.Type, destinationSpec.Type, stream.Sha256);
            return new
            {
                transferId = id,
                bytesMoved = stream.BytesDelivered,
                sha256 = stream.Sha256,
                destinationStatus = answer.Status,
                destinationLocation = answer.Location,
            };
        }
        catch (Exception ex)
        {
            // This attempt's error and bytes only: whether the transfer has failed (a permanent failure, the last
            // attempt) or was cancelled is the job's outcome, written on the row with it (TransferJobEnded).
            var verdict = Verdict(ex, ct);
            await RecordErrorAsync(id, verdict.Message, stream?.BytesDelivered ?? 0);
            throw verdict;
        }
        finally
        {
            // The first complete read of a URL source fixes what later attempts must read again.
            if (stream is { Sha256: not null } && transfer.SourceSha256 is null)
            {
                await RecordSourceAsync(id, stream, document!);
            }
            if (stream is not null) await stream.DisposeAsync();
            if (document is not null) await document.DisposeAsync();
        }
    }

    /// <summary>The key the HTTP destination receives on every attempt of a transfer.</summary>
    public static string IdempotencyKey(Guid transferId) => $"transfer-{transferId}";

    private static object Result(Transfer transfer) => new
    {
        transferId = transfer.Id,
        bytesMoved = transfer.BytesMoved,
        sha256 = transfer.Sha256,
        destinationStatus = transfer.DestinationStatus,
        destinationLocation = transfer.DestinationLocation,
    };

    /// <summary>
    /// What an exception means for the job: a verdict carried inside it (a checksum mismatch inside the HTTP stack's
    /// exception), a failure reading the source, or the destination's (already classified by the destination).
    /// </summary>
    private static Exception Verdict(Exception ex, CancellationToken ct)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (e is PermanentJobException or RetryableJobException) return e;
        }
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (e is SourceReadException read)
            {
                return OutboundFailures.Classify(read.InnerException!, "The source", ct) ?? new RetryableJobException(read.Message, read);
            }
        }
        return OutboundFailures.Classify(ex, "The destination", ct) ?? ex;
    }

    private async Task ReportAsync(JobContext context, Guid id, long bytes, long? size, CancellationToken ct)
    {
        var percent = size is > 0 ? (int)Math.Min(99, bytes * 100 / size.Value) : 0;
        await context.ReportProgressAsync(percent, size is null ? $"{bytes:N0} bytes sent" : $"{bytes:N0} of {size:N0} bytes sent", ct);
        await db.Transfers.Where(t => t.Id == id).ExecuteUpdateAsync(s => s.SetProperty(t => t.BytesMoved, bytes), ct);
    }

    /// <summary>An attempt's error and the bytes it sent; the transfer waits for its next attempt (or its job's end).</summary>
    private Task RecordErrorAsync(Guid id, string message, long bytes)
    {
        var error = Transfer.StorableError(message);
        return db.Transfers.Where(t => t.Id == id && t.State != TransferState.Completed).ExecuteUpdateAsync(s => s
            .SetProperty(t => t.State, TransferState.Queued)
            .SetProperty(t => t.Error, error)
            .SetProperty(t => t.BytesMoved, bytes), CancellationToken.None);
    }

    private Task RecordSourceAsync(Guid id, TransferStream stream, SourceDocument document) =>
        db.Transfers.Where(t => t.Id == id && t.SourceSha256 == null).ExecuteUpdateAsync(s => s
            .SetProperty(t => t.SourceSha256, stream.Sha256)
            .SetProperty(t => t.SourceSize, stream.BytesRead)
            .SetProperty(t => t.SourceETag, document.ETag)
            .SetProperty(t => t.SourceLastModified, document.LastModified), CancellationToken.None);
}
