using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Monolith.Domain.Imports;
using Monolith.Domain.Jobs;
using Monolith.Domain.Persistence;
using Monolith.Worker.Engine;
using Monolith.Worker.Outbound;
using Monolith.Worker.Uploads;

namespace Monolith.Worker.Jobs.Imports;

/// <summary>
/// What clients do to imports (<c>/v1/imports</c>, docs/imports.md): create one from a stored file or a ready upload,
/// cancel, retry (from its checkpoint), reprocess (from the start). Each writes the row and its <c>import_records</c> job
/// in one transaction and answers with both as they are now (docs/job-backed-features.md). A tenant scope is a tenant's
/// id, or null for the admin.
/// </summary>
public sealed class ImportCommands(
    MonolithDbContext db, JobClient client, ImportQueries imports, JobQueries jobs, UploadCopies copies, OutboundAddressPolicy addresses,
    IOptions<ImportOptions> options)
{
    /// <summary>
    /// The import of a file already stored under <paramref name="storageKey"/> and its job, in one transaction. Invalid
    /// (nothing written) when a field is wrong (<see cref="ImportRules"/>) or the callback URL may not be called. The
    /// stored file stays the caller's until this is done.
    /// </summary>
    public async Task<RowCommandOutcome<Import>> CreateAsync(
        Guid tenantId, Guid id, string storageKey, string fileName, long sizeBytes, NewImport input, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        var settings = await CheckAsync(input, fileName, errors, ct);
        if (errors.Count > 0) return RowCommandOutcome<Import>.Invalid(errors);
        return await SubmitAsync(tenantId, id, storageKey, fileName, sizeBytes, settings!, input.CallbackUrl, ct);
    }

    /// <summary>
    /// An import of a ready upload of the tenant: the fields are checked first, then the upload's file is copied to the
    /// import's own key (<see cref="UploadCopies"/>); then as <see cref="CreateAsync"/>. Invalid on <c>uploadId</c> when
    /// the upload is not visible or not ready.
    /// </summary>
    public async Task<RowCommandOutcome<Import>> CreateFromUploadAsync(Guid tenantId, Guid uploadId, NewImport input, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        var upload = await copies.FindReadyAsync(tenantId, uploadId, errors, ct);
        var settings = await CheckAsync(input, upload?.FileName, errors, ct); // before copying a large file
        if (errors.Count > 0) return RowCommandOutcome<Import>.Invalid(errors);

        var id = Guid.CreateVersion7();
        var key = StorageKeyOf(tenantId, id);
        return await copies.CopyForAsync(upload!, key,
            () => SubmitAsync(tenantId, id, key, upload!.FileName, upload.SizeBytes, settings!, input.CallbackUrl, ct), ct);
    }

    /// <summary>The request's fields (<see cref="ImportRules"/>) and whether its callback URL may be called; errors keyed by field.</summary>
    private async Task<ImportSettings?> CheckAsync(NewImport input, string? fileName, Dictionary<string, string[]> errors, CancellationToken ct)
    {
        var settings = ImportRules.Check(input, fileName, options.Value.DefaultMaxBadRowShare, errors);
        if (input.CallbackUrl is { } callbackUrl && await CallbackUrls.CheckAsync(callbackUrl, addresses, ct) is { } refused)
        {
            errors["callbackUrl"] = [refused];
        }
        return settings;
    }

    /// <summary>The row and its job, in one transaction (<see cref="JobClient.SubmitWithRowAsync{TPayload}(Guid, TPayload, JobSettings, Monolith.Domain.Jobs.IJobRow, CancellationToken)"/>).</summary>
    private async Task<RowCommandOutcome<Import>> SubmitAsync(
        Guid tenantId, Guid id, string storageKey, string fileName, long sizeBytes, ImportSettings settings, string? callbackUrl, CancellationToken ct)
    {
        var import = new Import
        {
            Id = id,
            TenantId = tenantId,
            Snapshot = settings.Snapshot,
            FileName = fileName,
            StorageKey = storageKey,
            SizeBytes = sizeBytes,
            IdColumn = settings.IdColumn,
            Delimiter = settings.Delimiter.ToString(),
            Encoding = settings.Encoding,
            HasHeader = settings.HasHeader,
            MaxBadRowShare = settings.MaxBadRowShare,
            State = ImportState.Queued,
            CreatedAt = DateTimeOffset.UtcNow,
        };
        var job = await client.SubmitWithRowAsync(tenantId, new ImportRecordsPayload(import.Id), new JobSettings(CallbackUrl: callbackUrl), import, ct);
        return RowCommandOutcome<Import>.Done(import, job);
    }

    /// <summary>Where an import's own copy of its file is stored.</summary>
    public static string StorageKeyOf(Guid tenantId, Guid importId) => $"imports/{tenantId}/{importId}";

    /// <summary>Cancels the import's job: it stops between batches, and what was committed stays. Conflict once it has finished.</summary>
    public async Task<RowCommandOutcome<Import>> CancelAsync(Guid? tenantScope, Guid id, CancellationToken ct)
    {
        if ((await imports.GetAsync(tenantScope, id, ct))?.JobId is not { } jobId) return RowCommandOutcome<Import>.NotFound;
        return await AnswerAsync(tenantScope, id, await client.CancelAsync(tenantScope, jobId, ct), ct);
    }

    /// <summary>
    /// Runs a failed or cancelled import again from its checkpoint: the job's new run and the row back to queued (its
    /// error and end cleared) in one transaction. Conflict when it is completed (reprocess reads it again), running or waiting.
    /// </summary>
    public async Task<RowCommandOutcome<Import>> RetryAsync(Guid? tenantScope, Guid id, CancellationToken ct)
    {
        var import = await imports.GetAsync(tenantScope, id, ct);
        if (import?.JobId is not { } jobId) return RowCommandOutcome<Import>.NotFound;
        if (import.State == ImportState.Completed) return RowCommandOutcome<Import>.Conflict(import, null);
        CommandOutcome outcome;
        await using (var tx = await db.Database.BeginTransactionAsync(ct))
        {
            outcome = await client.RetryAsync(tenantScope, jobId, ct);
            if (outcome.Status == CommandStatus.Done)
            {
                await db.Imports.Where(i => i.Id == id && i.JobId == jobId && i.State != ImportState.Completed).ExecuteUpdateAsync(s => s
                    .SetProperty(x => x.State, ImportState.Queued)
                    .SetProperty(x => x.Error, (string?)null)
                    .SetProperty(x => x.FinishedAt, (DateTimeOffset?)null), ct);
                await tx.CommitAsync(ct);
            }
        }
        return await AnswerAsync(tenantScope, id, outcome, ct);
    }

    /// <summary>
    /// Reads the stored file again from its start with a new job (records are upserted again; the counters and bad rows
    /// start over). Conflict while the import is queued or running; else the row is reset with its new job in one
    /// transaction, only if nobody changed it since it was read: of two racing, one gets the job and the other the conflict.
    /// </summary>
    public async Task<RowCommandOutcome<Import>> ReprocessAsync(Guid? tenantScope, Guid id, CancellationToken ct)
    {
        var import = await imports.GetAsync(tenantScope, id, ct);
        if (import is null) return RowCommandOutcome<Import>.NotFound;
        var job = import.JobId is { } jobId ? await jobs.GetAsync(tenantScope, jobId, ct) : null;
        if (!ImportStatuses.Of(import, job, DateTimeOffset.UtcNow).CanReprocess()) return RowCommandOutcome<Import>.Conflict(import, job);

        var seenState = import.State;
        var seenJob = import.JobId;
        var reprocess = await client.SubmitWithRowAsync(import.TenantId, new ImportRecordsPayload(import.Id), JobSettings.Defaults,
            async (newJob, token) => await db.Imports
                .Where(i => i.Id == id && i.State == seenState && i.JobId == seenJob)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(i => i.State, ImportState.Queued)
                    .SetProperty(i => i.JobId, newJob.Id)
                    .SetProperty(i => i.CheckpointRows, 0)
                    .SetProperty(i => i.BytesRead, 0)
                    .SetProperty(i => i.RecordsUpserted, 0)
                    .SetProperty(i => i.RowsRejected, 0)
                    .SetProperty(i => i.FirstErrors, "[]")
                    .SetProperty(i => i.Error, (string?)null)
                    .SetProperty(i => i.StartedAt, (DateTimeOffset?)null)
                    .SetProperty(i => i.LastBatchAt, (DateTimeOffset?)null)
                    .SetProperty(i => i.FinishedAt, (DateTimeOffset?)null), token) == 1, ct);
        if (reprocess is null) return RowCommandOutcome<Import>.Conflict(import, job);
        return await imports.GetAsync(tenantScope, id, ct) is { } now
            ? RowCommandOutcome<Import>.Done(now, reprocess)
            : RowCommandOutcome<Import>.NotFound;
    }

    /// <summary>What a cancel or retry answers: the row as it is now, and the job as the command left it.</summary>
    private async Task<RowCommandOutcome<Import>> AnswerAsync(Guid? tenantScope, Guid id, CommandOutcome outcome, CancellationToken ct)
    {
        if (outcome.Status == CommandStatus.NotFound || await imports.GetAsync(tenantScope, id, ct) is not { } import) return RowCommandOutcome<Import>.NotFound;
        return outcome.Status == CommandStatus.Conflict ? RowCommandOutcome<Import>.Conflict(import, outcome.Job) : RowCommandOutcome<Import>.Done(import, outcome.Job);
    }
}
