using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Monolith.Api.Infrastructure;
using Monolith.Api.Infrastructure.OpenApi;
using Monolith.Domain.Datasets;
using Monolith.Domain.Jobs;
using Monolith.Worker.Engine;
using Monolith.Worker.Jobs.Datasets;
using Monolith.Worker.Outbound;
using Monolith.Worker.Storage;

namespace Monolith.Api.Features.Datasets;

/// <summary>Names files: upload one (it is parsed by a <c>parse_dataset</c> job), then watch it (docs/datasets.md).</summary>
public static class DatasetsApi
{

    public static RouteGroupBuilder MapDatasetsApi(this IEndpointRouteBuilder routes)
    {
        var datasets = routes.MapGroup("/v1/datasets").WithTags("Datasets").RequireAuthorization();

        datasets.MapPost("/", UploadDataset).WithName("UploadDataset")
            .Accepts<UploadDatasetForm>("multipart/form-data", "application/json") // JSON: CreateDatasetFromUploadRequest
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .WithSummary("Upload a names file (multipart/form-data: file, country, optional format)")
            .WithDescription("The file is streamed to storage (limit Datasets__MaxUploadBytes, 1 GiB by default, counted as it " +
                             "arrives: 413 past it, nothing kept), recorded, and parsed by a parse_dataset job. Plain text, gzip, " +
                             "or a zip of several files. 202 with the dataset id, the job id and a Location header. Or a JSON body " +
                             "{uploadId, country, format?, callbackUrl?} naming a ready upload (POST /v1/uploads, pre-signed or not), " +
                             "whose file is copied for the dataset (docs/uploads.md).");
        datasets.MapGet("/", ListDatasets).WithName("ListDatasets").ProducesValidationProblem()
            .WithParameterFacts("country", values: DatasetFormats.Countries)
            .WithParameterFacts("limit", minimum: 1, maximum: DatasetQueries.MaxPageSize)
            .WithSummary("List datasets, newest first, with cursor paging (optionally one country's)");
        datasets.MapGet("/{id:guid}", GetDataset).WithName("GetDataset").ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("A dataset's state, rows inserted and rejected (with the first bad lines), the job's progress and timings");
        datasets.MapPost("/{id:guid}/reprocess", ReprocessDataset).WithName("ReprocessDataset")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .WithSummary("Parse the stored file again (a reprocess_dataset job): its records are replaced in one transaction")
            .WithDescription("409 while the dataset is uploaded or processing (its job has not finished). 202 with the dataset and the new job.");
        datasets.MapDelete("/{id:guid}", DeleteDataset).WithName("DeleteDataset")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .WithSummary("Remove a dataset: its records, its stored file and the dataset itself (409 while it is processing)");
        return datasets;
    }

    public static async Task<Results<Accepted<DatasetCreatedResponse>, ValidationProblem, ProblemHttpResult>> UploadDataset(
        HttpContext http,
        ClaimsPrincipal user,
        IFileStore store,
        DatasetCommands commands,
        IOptions<DatasetOptions> options,
        OutboundAddressPolicy outbound,
        CancellationToken ct)
    {
        if (JsonBody.IsJson(http.Request)) return await CreateDatasetFromUpload(http, user, commands, outbound, ct);
        var maxBytes = options.Value.MaxUploadBytes;
        var tenantId = user.TenantId();
        var datasetId = Guid.CreateVersion7();
        await using var upload = new UploadReader(http, store, $"datasets/{tenantId}/{datasetId}", maxBytes);
        var form = new DatasetFormFields(outbound);
        var read = await upload.ReadFormAsync(form, "Send a multipart/form-data body with the file in a 'file' field.", ct);
        if (read.TooLarge)
        {
            return TypedResults.Problem(
                title: "The file is too large.",
                detail: $"Files of at most {maxBytes:N0} bytes are accepted (Datasets__MaxUploadBytes). Nothing was kept.",
                statusCode: StatusCodes.Status413PayloadTooLarge);
        }
        if ((read.Invalid ?? form.Incomplete()) is { } invalid) return invalid;

        var outcome = await commands.CreateAsync(tenantId,
            new NewDataset(datasetId, upload.StorageKey, form.FileName!, upload.SizeBytes, form.Country, form.Format, form.CallbackUrl), ct);
        if (outcome.Status == CommandStatus.Invalid) return TypedResults.ValidationProblem(outcome.Errors!);
        upload.Keep();
        return TypedResults.Accepted($"/v1/datasets/{datasetId}", DatasetCreatedResponse.From(outcome.Row!, outcome.Job!));
    }

    /// <summary>A dataset from a ready upload, named by a JSON body (<see cref="CreateDatasetFromUploadRequest"/>).</summary>
    private static async Task<Results<Accepted<DatasetCreatedResponse>, ValidationProblem, ProblemHttpResult>> CreateDatasetFromUpload(
        HttpContext http, ClaimsPrincipal user, DatasetCommands commands, OutboundAddressPolicy outbound, CancellationToken ct)
    {
        var (request, invalid) = await JsonBody.ReadAsync<CreateDatasetFromUploadRequest>(http, ct);
        if (invalid is not null) return invalid;
        if (request!.CallbackUrl is { } callbackUrl && await CallbackUrls.CheckAsync(callbackUrl, outbound, ct) is { } refused)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["callbackUrl"] = [refused] });
        }
        var outcome = await commands.CreateFromUploadAsync(user.TenantId(),
            new NewDatasetFromUpload(request.UploadId!.Value, request.Country, request.Format, request.CallbackUrl), ct);
        if (outcome.Status == CommandStatus.Invalid) return TypedResults.ValidationProblem(outcome.Errors!);
        return TypedResults.Accepted($"/v1/datasets/{outcome.Row!.Id}", DatasetCreatedResponse.From(outcome.Row, outcome.Job!));
    }

    public static async Task<Results<Ok<DatasetResponse>, ProblemHttpResult>> GetDataset(
        Guid id, ClaimsPrincipal user, DatasetQueries datasets, JobQueries jobs, CancellationToken ct)
    {
        var dataset = await datasets.GetAsync(user.TenantScope(), id, ct);
        if (dataset is null) return NotFound(id);
        var job = dataset.JobId is { } jobId ? await jobs.GetAsync(user.TenantScope(), jobId, ct) : null;
        return TypedResults.Ok(DatasetResponse.From(dataset, job));
    }

    /// <param name="country" example="US">Only this country's datasets.</param>
    /// <param name="cursor">The <c>nextCursor</c> of the previous page.</param>
    /// <param name="limit">Page size, 1 to 200 (default 50).</param>
    public static async Task<Results<Ok<DatasetListResponse>, ValidationProblem>> ListDatasets(
        string? country, string? cursor, int? limit, ClaimsPrincipal user, DatasetQueries datasets, JobQueries jobQueries, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        var code = country is null ? null : DatasetFormatChoice.CheckCountry(country, errors);
        var paging = PageRequest.Read(cursor, limit, DatasetQueries.MaxPageSize, errors);
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors);

        var page = await datasets.ListAsync(user.TenantScope(), code, paging.After, paging.Size, ct);
        var jobs = await jobQueries.ByIdsAsync(page.Select(d => d.JobId), ct);
        var next = paging.NextCursor(page, row => row.Id);
        return TypedResults.Ok(new DatasetListResponse(
            page.Select(d => DatasetResponse.From(d, d.JobId is { } jobId ? jobs.GetValueOrDefault(jobId) : null)).ToList(), next));
    }

    public static async Task<Results<Accepted<DatasetCreatedResponse>, ProblemHttpResult>> ReprocessDataset(
        Guid id, ClaimsPrincipal user, DatasetCommands commands, CancellationToken ct)
    {
        var outcome = await commands.ReprocessAsync(user.TenantScope(), id, ct);
        return outcome.Status switch
        {
            CommandStatus.NotFound => NotFound(id),
            CommandStatus.Conflict => Busy(id, "reprocessed"),
            _ => TypedResults.Accepted($"/v1/datasets/{id}", DatasetCreatedResponse.From(outcome.Row!, outcome.Job!)),
        };
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteDataset(
        Guid id, ClaimsPrincipal user, DatasetCommands commands, CancellationToken ct)
    {
        var outcome = await commands.DeleteAsync(user.TenantScope(), id, ct);
        return outcome.Status switch
        {
            CommandStatus.NotFound => NotFound(id),
            CommandStatus.Conflict => Busy(id, "deleted"),
            _ => TypedResults.NoContent(),
        };
    }

    private static ProblemHttpResult NotFound(Guid id) => TypedResults.Problem(
        title: "Dataset not found.", detail: $"No dataset {id} is visible to this API key.", statusCode: StatusCodes.Status404NotFound);

    private static ProblemHttpResult Busy(Guid id, string what) => TypedResults.Problem(
        title: "The dataset is being processed.",
        detail: $"Dataset {id} is uploaded or processing; it can be {what} once its job has finished.",
        statusCode: StatusCodes.Status409Conflict);
}
