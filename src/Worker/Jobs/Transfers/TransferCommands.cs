using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Monolith.Domain.Jobs;
using Monolith.Domain.Persistence;
using Monolith.Domain.Secrets;
using Monolith.Domain.Transfers;
using Monolith.Worker.Engine;
using Monolith.Worker.Outbound;

namespace Monolith.Worker.Jobs.Transfers;

/// <summary>
/// What clients do to transfers (the API's <c>/v1/transfers</c> and the dashboard's buttons): create, cancel, retry.
/// Each writes the transfer's row and its <c>transfer_document</c> job in one transaction, and answers with both as they
/// are now (docs/job-backed-features.md). A tenant scope is a tenant's id, or null for the admin (who sees every tenant's).
/// </summary>
public sealed class TransferCommands(
    MonolithDbContext db,
    TransferQueries transfers,
    JobQueries jobs,
    JobClient client,
    OutboundAddressPolicy addresses,
    DirectoryPaths paths,
    SecretProtector secrets)
{
    /// <summary>
    /// Checks what needs the outside world (the upload is visible to the tenant, each URL may be called, the directory
    /// path stays in the tenant's part of its root), then stores the row (header and form values encrypted) and its job
    /// together. Invalid, with the request's field names, when a check fails; nothing is stored then.
    /// </summary>
    public async Task<RowCommandOutcome<Transfer>> CreateAsync(Guid tenantId, NewTransfer request, CancellationToken ct)
    {
        var errors = await CheckAsync(tenantId, request, ct);
        if (errors.Count > 0) return RowCommandOutcome<Transfer>.Invalid(errors);

        var (source, destination) = (request.Source, request.Destination);
        var transfer = new Transfer
        {
            Id = Guid.CreateVersion7(),
            TenantId = tenantId,
            Source = JsonSerializer.Serialize(source with
            {
                Headers = source.Headers is null ? null : secrets.ProtectValues(source.Headers, Transfer.HeaderPurpose),
            }, Transfer.Json),
            Destination = JsonSerializer.Serialize(destination with
            {
                Method = destination.Method?.ToUpperInvariant(),
                Headers = destination.Headers is null ? null : secrets.ProtectValues(destination.Headers, Transfer.HeaderPurpose),
                Form = destination.Form is null ? null : secrets.ProtectValues(destination.Form, Transfer.FormPurpose),
            }, Transfer.Json),
            Metadata = JsonSerializer.Serialize(request.Metadata ?? new Dictionary<string, string>(), Transfer.Json),
            SourceUploadId = source.Type == TransferSource.UploadType ? source.UploadId : null,
            State = TransferState.Queued,
            CreatedAt = DateTimeOffset.UtcNow,
        };
        var job = await client.SubmitWithRowAsync(tenantId, new TransferDocumentPayload(transfer.Id), new JobSettings(CallbackUrl: request.CallbackUrl),
            transfer, ct);
        return RowCommandOutcome<Transfer>.Done(transfer, job);
    }

    /// <summary>Cancels the transfer's job: a waiting one never starts, a running one stops within about a second. Conflict once it has finished.</summary>
    public async Task<RowCommandOutcome<Transfer>> CancelAsync(Guid? tenantScope, Guid id, CancellationToken ct)
    {
        if ((await transfers.GetAsync(tenantScope, id, ct))?.JobId is not { } jobId) return RowCommandOutcome<Transfer>.NotFound;
        return await AnswerAsync(tenantScope, id, (await client.CancelAsync(tenantScope, jobId, ct)).Status, ct);
    }

    /// <summary>
    /// Runs a failed or cancelled transfer again: the job's new run and the row back to queued (its error and end cleared)
    /// in one transaction, so the transfer is never seen retried with its old failure, nor reset without a run.
    /// Conflict when it is not failed or cancelled.
    /// </summary>
    public async Task<RowCommandOutcome<Transfer>> RetryAsync(Guid? tenantScope, Guid id, CancellationToken ct)
    {
        if ((await transfers.GetAsync(tenantScope, id, ct))?.JobId is not { } jobId) return RowCommandOutcome<Transfer>.NotFound;
        CommandStatus status;
        await using (var tx = await db.Database.BeginTransactionAsync(ct))
        {
            status = (await client.RetryAsync(tenantScope, jobId, ct)).Status;
            if (status == CommandStatus.Done)
            {
                await db.Transfers.Where(t => t.Id == id && t.State != TransferState.Completed).ExecuteUpdateAsync(s => s
                    .SetProperty(t => t.State, TransferState.Queued)
                    .SetProperty(t => t.Error, (string?)null)
                    .SetProperty(t => t.FinishedAt, (DateTimeOffset?)null), ct);
                await tx.CommitAsync(ct);
            }
        }
        return await AnswerAsync(tenantScope, id, status, ct);
    }

    /// <summary>The field errors of <paramref name="request"/> that only the outside world can tell, keyed as the request's fields.</summary>
    private async Task<Dictionary<string, string[]>> CheckAsync(Guid tenantId, NewTransfer request, CancellationToken ct)
    {
        var (source, destination) = (request.Source, request.Destination);
        var errors = new Dictionary<string, string[]>();
        if (source.Type == TransferSource.UploadType)
        {
            var upload = await transfers.GetUploadAsync(tenantId, source.UploadId!.Value, ct);
            if (upload is null) errors["source.uploadId"] = [$"No upload {source.UploadId} is visible to this API key."];
            else if (upload.UnusableReason is { } unusable) errors["source.uploadId"] = [unusable];
        }
        if (source.Type == TransferSource.UrlType && await addresses.CheckAsync(new Uri(source.Url!), ct) is { } sourceRefused)
        {
            errors["source.url"] = [sourceRefused];
        }
        if (destination.Type == TransferDestination.HttpType && await addresses.CheckAsync(new Uri(destination.Url!), ct) is { } destinationRefused)
        {
            errors["destination.url"] = [destinationRefused];
        }
        if (request.CallbackUrl is { } callbackUrl && await CallbackUrls.CheckAsync(callbackUrl, addresses, ct) is { } callbackRefused)
        {
            errors["callbackUrl"] = [callbackRefused];
        }
        if (destination.Type == TransferDestination.DirectoryType)
        {
            try
            {
                paths.Resolve(tenantId, destination.Path);
            }
            catch (PathRefusedException ex)
            {
                errors["destination.path"] = [ex.Message];
            }
        }
        return errors;
    }

    /// <summary>What a cancel or retry of transfer <paramref name="id"/> answers: its row and job (with attempts) as they are now.</summary>
    private async Task<RowCommandOutcome<Transfer>> AnswerAsync(Guid? tenantScope, Guid id, CommandStatus status, CancellationToken ct)
    {
        if (status == CommandStatus.NotFound || await transfers.GetAsync(tenantScope, id, ct) is not { } transfer) return RowCommandOutcome<Transfer>.NotFound;
        var job = await jobs.GetAsync(tenantScope, transfer.JobId!.Value, ct);
        return status == CommandStatus.Conflict ? RowCommandOutcome<Transfer>.Conflict(transfer, job) : RowCommandOutcome<Transfer>.Done(transfer, job);
    }
}
