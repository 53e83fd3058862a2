using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using Monolith.Api.Features.Jobs;
using Monolith.Api.Infrastructure.OpenApi;
using Monolith.Domain.Datasets;
using Monolith.Domain.Imports;
using Monolith.Domain.Jobs;

namespace Monolith.Api.Features.Imports;

/// <summary>The multipart form <c>POST /v1/imports</c> reads (documentation only: the endpoint streams the body itself).</summary>
/// <param name="File">The CSV or TSV file: plain, gzip, or a zip of such files (each with its own header).</param>
/// <param name="Snapshot">The snapshot to upsert the records into (letters, digits, <c>_ . -</c>; up to 100 characters).</param>
/// <param name="IdColumn">The column holding each record's id: a header name, or c1…cN when hasHeader is false.</param>
/// <param name="Delimiter">One character; <c>\t</c> or <c>tab</c> for a tab. Default: a comma, a tab for a .tsv file.</param>
/// <param name="Encoding">utf-8 (the default; a BOM is skipped) or latin1.</param>
/// <param name="HasHeader">true (the default): the first row names the columns; false: they are called c1…cN.</param>
/// <param name="MaxBadRowShare">0 to 1: the import fails when more than this share of its rows is bad (default: Imports__DefaultMaxBadRowShare, 0.01).</param>
/// <param name="CallbackUrl">Optional absolute http(s) URL: when the import's job ends, a signed event is POSTed there (docs/webhooks.md).</param>
public sealed record UploadImportForm(
    [property: Required] IFormFile File,
    [property: Required] string Snapshot,
    [property: Required] string IdColumn,
    string? Delimiter,
    [property: EnumValues(typeof(ImportEncodings), nameof(ImportEncodings.All))] string? Encoding,
    bool? HasHeader,
    double? MaxBadRowShare,
    string? CallbackUrl);

/// <summary><c>POST /v1/imports</c> with a JSON body: an import of a ready upload (<c>POST /v1/uploads</c>, pre-signed or not).</summary>
/// <param name="UploadId">The upload holding the CSV/TSV file (its file name picks the default delimiter as a form's would).</param>
/// <param name="Snapshot">The snapshot to upsert the records into.</param>
/// <param name="IdColumn">The column holding each record's id: a header name, or c1…cN when hasHeader is false.</param>
/// <param name="Delimiter">One character; <c>\t</c> or <c>tab</c> for a tab. Default: a comma, a tab for a .tsv file.</param>
/// <param name="Encoding">utf-8 (the default) or latin1.</param>
/// <param name="HasHeader">Default true.</param>
/// <param name="MaxBadRowShare">0 to 1 (default: Imports__DefaultMaxBadRowShare, 0.01).</param>
/// <param name="CallbackUrl">Optional absolute http(s) URL for the job's end (docs/webhooks.md).</param>
public sealed record CreateImportFromUploadRequest(
    Guid? UploadId, string? Snapshot, string? IdColumn, string? Delimiter,
    [property: EnumValues(typeof(ImportEncodings), nameof(ImportEncodings.All))] string? Encoding,
    bool? HasHeader, double? MaxBadRowShare, string? CallbackUrl)
{
    /// <summary>The command's input, once <see cref="CreateImportFromUploadRequestValidator"/> has passed the request.</summary>
    public NewImport ToNewImport() => new(Snapshot ?? "", IdColumn ?? "", Delimiter, Encoding, HasHeader, MaxBadRowShare, CallbackUrl);
}

/// <summary>An accepted import: its id and the <c>import_records</c> job that runs it.</summary>
public sealed record ImportCreatedResponse(
    Guid Id, Guid JobId, string Snapshot, string FileName, long SizeBytes, [property: EnumValues(typeof(ImportStatus))] string State)
{
    public static ImportCreatedResponse From(Import import, Job job) => new(
        import.Id, job.Id, import.Snapshot, import.FileName, import.SizeBytes, ImportStatuses.Of(import, job, DateTimeOffset.UtcNow).ToName());
}

/// <summary>An import as clients see it.</summary>
/// <param name="State">queued (waiting for a worker, a retry included), running, completed, failed or cancelled.</param>
/// <param name="Delimiter">The field separator used (a tab shows as <c>\t</c>).</param>
/// <param name="RowsRead">Data rows (good and bad) read up to the last committed batch: the checkpoint a retry resumes from.</param>
/// <param name="BytesRead">Bytes of the stored file read at the last committed batch.</param>
/// <param name="ProgressPercent">bytesRead over sizeBytes (100 once completed).</param>
/// <param name="RecordsUpserted">Good rows committed into the snapshot.</param>
/// <param name="RowsRejected">Bad rows found (after a failure for too many, all those found).</param>
/// <param name="Errors">The first bad rows (at most 20): line number from 1, reason, and the file inside a zip.</param>
/// <param name="Error">Why the import failed or was cancelled.</param>
/// <param name="Job">The import's current job: its state and progress.</param>
public sealed record ImportResponse(
    Guid Id,
    string Snapshot,
    string FileName,
    long SizeBytes,
    string IdColumn,
    string Delimiter,
    [property: EnumValues(typeof(ImportEncodings), nameof(ImportEncodings.All))] string Encoding,
    bool HasHeader,
    double MaxBadRowShare,
    [property: EnumValues(typeof(ImportStatus))] string State,
    long RowsRead,
    long BytesRead,
    int ProgressPercent,
    long RecordsUpserted,
    long RowsRejected,
    IReadOnlyList<DatasetLineError> Errors,
    string? Error,
    RowJobResponse? Job,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? LastBatchAt,
    DateTimeOffset? FinishedAt)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The import as clients see it now: its status by <see cref="ImportStatuses.Of"/>, the one rule.</summary>
    public static ImportResponse From(Import import, Job? job, DateTimeOffset now)
    {
        var status = ImportStatuses.Of(import, job, now);
        // Whether the status is the job's (the row's own once completed, or without a job to go by).
        var byJob = job is not null && import.State != ImportState.Completed && JobQueries.EffectiveState(job, now) != JobState.Succeeded;
        var finishedAt = status switch
        {
            ImportStatus.Cancelled or ImportStatus.Failed when byJob => import.FinishedAt ?? job!.FinishedAt,
            ImportStatus.Queued or ImportStatus.Running when byJob => null,
            _ => import.FinishedAt,
        };
        var error = status is ImportStatus.Failed or ImportStatus.Cancelled ? import.Error ?? job?.LastError : null;
        return new ImportResponse(
            import.Id,
            import.Snapshot,
            import.FileName,
            import.SizeBytes,
            import.IdColumn,
            import.Delimiter == "\t" ? @"\t" : import.Delimiter,
            import.Encoding,
            import.HasHeader,
            import.MaxBadRowShare,
            status.ToName(),
            import.CheckpointRows,
            import.BytesRead,
            status == ImportStatus.Completed ? 100 : import.SizeBytes == 0 ? 0 : (int)Math.Min(99, import.BytesRead * 100 / import.SizeBytes),
            import.RecordsUpserted,
            import.RowsRejected,
            JsonSerializer.Deserialize<List<DatasetLineError>>(import.FirstErrors, Json) ?? [],
            error,
            RowJobResponse.From(job, now),
            import.CreatedAt,
            import.StartedAt,
            import.LastBatchAt,
            finishedAt);
    }
}

/// <summary>One page of imports, newest first.</summary>
/// <param name="NextCursor">Pass as <c>cursor</c> for the next page; null on the last page.</param>
public sealed record ImportListResponse(IReadOnlyList<ImportResponse> Items, string? NextCursor);
