using Microsoft.EntityFrameworkCore;
using Monolith.Domain.Datasets;
using Monolith.Domain.Jobs;
using Monolith.Domain.Persistence;
using Monolith.Worker.Engine;
using Monolith.Worker.Uploads;

namespace Monolith.Worker.Jobs.Datasets;

/// <summary>
/// What clients do to datasets (docs/datasets.md): create one from a stored file, reprocess it, delete it. Each writes
/// the row and the job in one transaction; the endpoints and the dashboard call these and only turn the outcome into
/// their answer. Reads scope by tenant as <see cref="DatasetQueries"/> does (null: the admin, every tenant's).
/// </summary>
public sealed class DatasetCommands(
    MonolithDbContext db, JobClient client, DatasetQueries datasets, JobQueries jobs, DatasetRemoval removal, UploadCopies copies)
{
    /// <summary>
    /// The dataset and its <c>parse_dataset</c> job, in one transaction. Invalid (nothing written) when the country or
    /// format is wrong (<see cref="DatasetFormatChoice"/>). The stored file stays the caller's until this is done.
    /// </summary>
    public async Task<RowCommandOutcome<Dataset>> CreateAsync(Guid tenantId, NewDataset input, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (DatasetFormatChoice.Resolve(input.Country, input.Format, input.FileName, errors) is not { } format)
        {
            return RowCommandOutcome<Dataset>.Invalid(errors);
        }
        var dataset = new Dataset
        {
            Id = input.Id,
            TenantId = tenantId,
            Country = format.Country,
            Format = format.Name,
            FileName = input.FileName,
            StorageKey = input.StorageKey,
            SizeBytes = input.SizeBytes,
            State = DatasetState.Uploaded,
            CreatedAt = DateTimeOffset.UtcNow,
        };
        var job = await client.SubmitWithRowAsync(tenantId, new ParseDatasetPayload(dataset.Id), new JobSettings(CallbackUrl: input.CallbackUrl),
            dataset, ct);
        return RowCommandOutcome<Dataset>.Done(dataset, job);
    }

    /// <summary>
    /// A dataset from a ready upload of the tenant: the upload's file is copied (inside the store when it can) to the
    /// dataset's own key, so deleting either never touches the other; then as <see cref="CreateAsync"/>. Invalid on
    /// <c>uploadId</c> (nothing written) when the upload is not visible or not ready, or on the country or format.
    /// </summary>
    public async Task<RowCommandOutcome<Dataset>> CreateFromUploadAsync(Guid tenantId, NewDatasetFromUpload input, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        var upload = await copies.FindReadyAsync(tenantId, input.UploadId, errors, ct);
        if (upload is not null) DatasetFormatChoice.Resolve(input.Country, input.Format, upload.FileName, errors); // before copying a large file
        if (errors.Count > 0) return RowCommandOutcome<Dataset>.Invalid(errors);

        var id = Guid.CreateVersion7();
        var key = $"datasets/{tenantId}/{id}";
        return await copies.CopyForAsync(upload!, key, () =>
            CreateAsync(tenantId, new NewDataset(id, key, upload!.FileName, upload.SizeBytes, input.Country, input.Format, input.CallbackUrl), ct), ct);
    }

    /// <summary>
    /// Parses the stored file again (a <c>reprocess_dataset</c> job). Conflict while the dataset is uploaded or processing;
    /// else it is claimed with its new job in one transaction, only if nobody changed it since it was read (a second
    /// reprocess, a parse starting): of two racing, one gets the job and the other the conflict.
    /// </summary>
    public async Task<RowCommandOutcome<Dataset>> ReprocessAsync(Guid? tenantScope, Guid id, CancellationToken ct)
    {
        var (dataset, job) = await ReadAsync(tenantScope, id, ct);
        if (dataset is null) return RowCommandOutcome<Dataset>.NotFound;
        if (!DatasetStatuses.IsIdle(DatasetStatuses.Of(dataset, job, DateTimeOffset.UtcNow))) return RowCommandOutcome<Dataset>.Conflict(dataset, job);

        var seenState = dataset.State;
        var seenJob = dataset.JobId;
        var reprocess = await client.SubmitWithRowAsync(dataset.TenantId, new ReprocessDatasetPayload(dataset.Id), JobSettings.Defaults,
            async (job, ct) => await db.Datasets
                .Where(d => d.Id == id && d.State == seenState && d.JobId == seenJob)
                .ExecuteUpdateAsync(s => s.SetProperty(d => d.State, DatasetState.Uploaded).SetProperty(d => d.JobId, job.Id), ct) == 1, ct);
        if (reprocess is null) return RowCommandOutcome<Dataset>.Conflict(dataset, job);
        dataset.State = DatasetState.Uploaded;
        dataset.JobId = reprocess.Id;
        return RowCommandOutcome<Dataset>.Done(dataset, reprocess);
    }

    /// <summary>
    /// Removes the dataset, its records and its stored file (<see cref="DatasetRemoval"/>). Conflict while it is uploaded
    /// or processing, or when a parse or reprocess started since it was read.
    /// </summary>
    public async Task<RowCommandOutcome<Dataset>> DeleteAsync(Guid? tenantScope, Guid id, CancellationToken ct)
    {
        var (dataset, job) = await ReadAsync(tenantScope, id, ct);
        if (dataset is null) return RowCommandOutcome<Dataset>.NotFound;
        if (!DatasetStatuses.IsIdle(DatasetStatuses.Of(dataset, job, DateTimeOffset.UtcNow))
            || !await removal.RemoveAsync(dataset, dataset.State, dataset.JobId, ct))
        {
            return RowCommandOutcome<Dataset>.Conflict(dataset, job);
        }
        return RowCommandOutcome<Dataset>.Done(dataset, job);
    }

    private async Task<(Dataset? Dataset, Job? Job)> ReadAsync(Guid? tenantScope, Guid id, CancellationToken ct)
    {
        var dataset = await datasets.GetAsync(tenantScope, id, ct);
        var job = dataset?.JobId is { } jobId ? await jobs.GetAsync(tenantScope, jobId, ct) : null;
        return (dataset, job);
    }
}
