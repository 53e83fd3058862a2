using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using Monolith.Api.Infrastructure.OpenApi;
using Monolith.Api.Features.Jobs;
using Monolith.Domain.Datasets;
using Monolith.Domain.Jobs;
using Monolith.Worker.Jobs.Datasets;

namespace Monolith.Api.Features.Datasets;

/// <summary>
/// The multipart form <c>POST /v1/datasets</c> reads (documentation only: the endpoint streams the body itself).
/// </summary>
/// <param name="File">The names file: plain text, gzip, or a zip of several files. Its name matters (yob2020.txt, AK.TXT, nat2022.csv).</param>
/// <param name="Country">ISO 3166-1 alpha-2: US or FR.</param>
/// <param name="Format">us_yob, us_state or fr_national; when absent, told by the file's name (yobYYYY.txt, XX.TXT,
/// nat*.csv), else the country's default (a zip: US us_yob, FR fr_national).</param>
/// <param name="CallbackUrl">Optional absolute http(s) URL: when the parse job ends, a signed event is POSTed there (docs/webhooks.md).</param>
public sealed record UploadDatasetForm(
    [property: Required] IFormFile File,
    [property: Required, EnumValues(typeof(DatasetFormats), nameof(DatasetFormats.Countries))] string Country,
    string? Format,
    string? CallbackUrl);

/// <summary>An accepted upload: the dataset and the job that parses it.</summary>
public sealed record DatasetCreatedResponse(
    Guid Id, Guid JobId, [property: EnumValues(typeof(DatasetFormats), nameof(DatasetFormats.Countries))] string Country, string Format, string FileName,
    long SizeBytes, [property: EnumValues(typeof(DatasetStatus))] string State)
{
    /// <summary>A dataset and the job just submitted for it.</summary>
    public static DatasetCreatedResponse From(Dataset dataset, Job job) => new(
        dataset.Id, job.Id, dataset.Country, dataset.Format, dataset.FileName, dataset.SizeBytes,
        DatasetStatuses.Of(dataset, job, DateTimeOffset.UtcNow).ToName());
}

/// <summary>A dataset as clients see it.</summary>
/// <param name="State">uploaded, processing, completed or failed.</param>
/// <param name="AggregateRows">Of the rows inserted, the aggregate ones (France's _PRENOMS_RARES and year XXXX), kept out of the name queries.</param>
/// <param name="RowsSuperseded">Of the rows inserted, those a later dataset of the same country, region and year replaced.</param>
/// <param name="SupersededBy">The dataset that last replaced rows of this one.</param>
/// <param name="Errors">The first rejected lines (at most 20): line number from 1, reason, and the file inside a zip.</param>
/// <param name="Error">Why the dataset failed, when it did.</param>
/// <param name="Job">The parse job's state and progress.</param>
public sealed record DatasetResponse(
    Guid Id,
    [property: EnumValues(typeof(DatasetFormats), nameof(DatasetFormats.Countries))] string Country,
    string Format,
    string FileName,
    long SizeBytes,
    [property: EnumValues(typeof(DatasetStatus))] string State,
    long RowsInserted,
    long RowsRejected,
    long AggregateRows,
    long RowsSuperseded,
    Guid? SupersededBy,
    IReadOnlyList<DatasetLineError> Errors,
    string? Error,
    RowJobResponse? Job,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    double? DurationSeconds)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>A dataset with the state, error and finish time its status rule shows (<see cref="DatasetStatuses"/>).</summary>
    public static DatasetResponse From(Dataset dataset, Job? job)
    {
        var now = DateTimeOffset.UtcNow;
        var finishedAt = DatasetStatuses.FinishedAtOf(dataset, job, now);
        return new DatasetResponse(
            dataset.Id,
            dataset.Country,
            dataset.Format,
            dataset.FileName,
            dataset.SizeBytes,
            DatasetStatuses.Of(dataset, job, now).ToName(),
            dataset.RowsInserted,
            dataset.RowsRejected,
            dataset.AggregateRows,
            dataset.RowsSuperseded,
            dataset.SupersededBy,
            JsonSerializer.Deserialize<List<DatasetLineError>>(dataset.FirstErrors, Json) ?? [],
            DatasetStatuses.ErrorOf(dataset, job, now),
            RowJobResponse.From(job, now),
            dataset.CreatedAt,
            dataset.StartedAt,
            finishedAt,
            dataset.StartedAt is { } started && finishedAt is { } finished ? (finished - started).TotalSeconds : null);
    }
}

/// <summary>One page of datasets, newest first.</summary>
/// <param name="NextCursor">Pass as <c>cursor</c> for the next page; null on the last page.</param>
public sealed record DatasetListResponse(IReadOnlyList<DatasetResponse> Items, string? NextCursor);

/// <summary><c>POST /v1/datasets</c> with a JSON body: a dataset from a ready upload (<c>POST /v1/uploads</c>, pre-signed or not).</summary>
/// <param name="UploadId">The upload holding the names file; its file name tells the format as a form's file name would.</param>
/// <param name="Country">ISO 3166-1 alpha-2: US or FR.</param>
/// <param name="Format">us_yob, us_state or fr_national; when absent, told by the upload's file name, else the country's default.</param>
/// <param name="CallbackUrl">Optional absolute http(s) URL: when the parse job ends, a signed event is POSTed there (docs/webhooks.md).</param>
public sealed record CreateDatasetFromUploadRequest(Guid? UploadId, string? Country, string? Format, string? CallbackUrl);
