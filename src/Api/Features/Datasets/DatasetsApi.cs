using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Monolith.Api.Infrastructure;
using Monolith.Api.Infrastructure.OpenApi;
using Monolith.Domain.Datasets;
using Monolith.Domain.Jobs;
using Monolith.Domain.Persistence;
using Monolith.Domain.Text;
using Monolith.Worker.Engine;
using Monolith.Worker.Jobs.Datasets;
using Monolith.Worker.Outbound;
using Monolith.Worker.Storage;

namespace Monolith.Api.Features.Datasets;

/// <summary>Names files: upload one (it is parsed by a <c>parse_dataset</c> job), then watch it (docs/datasets.md).</summary>
public static class DatasetsApi
{
    public const int DefaultPageSize = 50;

    /// <summary>Longest text field (country, format) read from the form.</summary>
    private const int MaxFieldLength = 100;

    public static RouteGroupBuilder MapDatasetsApi(this IEndpointRouteBuilder routes)
    {
        var datasets = routes.MapGroup("/v1/datasets").WithTags("Datasets").RequireAuthorization();

        datasets.MapPost("/", UploadDataset).WithName("UploadDataset")
            .Accepts<UploadDatasetForm>("multipart/form-data")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .WithSummary("Upload a names file (multipart/form-data: file, country, optional format)")
            .WithDescription("The file is streamed to storage (limit Datasets__MaxUploadBytes, 1 GiB by default, counted as it " +
                             "arrives: 413 past it, nothing kept), recorded, and parsed by a parse_dataset job. Plain text, gzip, " +
                             "or a zip of several files. 202 with the dataset id, the job id and a Location header.");
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
        MonolithDbContext db,
        JobClient client,
        IOptions<DatasetOptions> options,
        OutboundAddressPolicy outbound,
        CancellationToken ct)
    {
        var maxBytes = options.Value.MaxUploadBytes;
        // The server's own body limit (Kestrel: 30 MB) must not cut an allowed file short; the form's other parts
        // get a little room beside the file.
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodyLimit)
        {
            bodyLimit.MaxRequestBodySize = maxBytes + 1024 * 1024;
        }

        if (!MediaTypeHeaderValue.TryParse(http.Request.ContentType, out var mediaType)
            || !mediaType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
            || HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value is not { Length: > 0 } boundary)
        {
            return Invalid("file", "Send a multipart/form-data body with the file in a 'file' field.");
        }

        var tenantId = user.TenantId();
        var datasetId = Guid.CreateVersion7();
        var storageKey = $"datasets/{tenantId}/{datasetId}";
        string? country = null, format = null, fileName = null, callbackUrl = null;
        long size = 0;
        var fieldErrors = new Dictionary<string, string[]>();
        try
        {
            var reader = new MultipartReader(boundary, http.Request.Body);
            while (await reader.ReadNextSectionAsync(ct) is { } section)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)
                    || !disposition.DispositionType.Equals("form-data", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }
                var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value;
                if (disposition.IsFileDisposition() && name == "file" && fileName is null)
                {
                    // Fields sent before the file are checked first: a bad country need not wait for a large upload.
                    Check(country, format, fieldErrors, requireCountry: country is not null);
                    if (fieldErrors.Count > 0) return TypedResults.ValidationProblem(fieldErrors);

                    var given = HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).Value;
                    fileName = Path.GetFileName(given?.Replace('\\', '/') ?? "");
                    if (fileName.Length is 0 or > 255) return Invalid("file", "The file needs a name of 1 to 255 characters (the format may read the year from it).");
                    if (!StorableText.IsStorable(fileName)) return Invalid("file", StorableText.Reason);
                    await using var limited = new LimitedReadStream(section.Body, maxBytes);
                    size = await store.WriteAsync(storageKey, limited, ct);
                }
                else if (!disposition.IsFileDisposition() && name is "country" or "format")
                {
                    var value = await ReadFieldAsync(section.Body, MaxFieldLength, ct);
                    if (!StorableText.IsStorable(value))
                    {
                        await DeleteQuietlyAsync(store, storageKey); // the file may have come first
                        return Invalid(name, StorableText.Reason);
                    }
                    if (name == "country") country = value;
                    else format = value;
                }
                else if (!disposition.IsFileDisposition() && name == "callbackUrl")
                {
                    callbackUrl = await ReadFieldAsync(section.Body, CallbackUrls.MaxLength + 1, ct);
                    if (!StorableText.IsStorable(callbackUrl)) fieldErrors["callbackUrl"] = [StorableText.Reason];
                    else if (await CallbackUrls.CheckAsync(callbackUrl, outbound, ct) is { } reason) fieldErrors["callbackUrl"] = [reason];
                }
                else
                {
                    await section.Body.DrainAsync(ct); // an unknown part is ignored
                }
            }
        }
        catch (FileTooLargeException)
        {
            return TypedResults.Problem(
                title: "The file is too large.",
                detail: $"Files of at most {maxBytes:N0} bytes are accepted (Datasets__MaxUploadBytes). Nothing was kept.",
                statusCode: StatusCodes.Status413PayloadTooLarge);
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException && ex is not BadHttpRequestException)
        {
            // Malformed framing, or a body that ends before its closing boundary ("Unexpected end of Stream"). A body
            // the server cut short itself (too large, client gone) is its BadHttpRequestException, answered as such.
            await DeleteQuietlyAsync(store, storageKey);
            return Invalid("body", $"The multipart body is malformed or cut short: {ex.Message}");
        }
        catch
        {
            await DeleteQuietlyAsync(store, storageKey);
            throw;
        }

        Check(country, format, fieldErrors, requireCountry: true);
        if (fileName is null) fieldErrors["file"] = ["A file is required (a multipart field named 'file')."];
        if (fieldErrors.Count > 0)
        {
            if (fileName is not null) await DeleteQuietlyAsync(store, storageKey);
            return TypedResults.ValidationProblem(fieldErrors);
        }

        // No format given: the file's name tells it (yob2020.txt, AK.TXT, nat2022.csv, with or without .gz); a name
        // that tells none (a zip) gets the country's default.
        var code = Normalize(country!);
        var detected = format is null ? DatasetFormats.Detect(fileName!) : null;
        if (detected is not null && detected.Country != code)
        {
            await DeleteQuietlyAsync(store, storageKey);
            return Invalid("country", $"The file '{fileName}' is of format {detected.Name}, which is for {detected.Country}, not {code}.");
        }
        var resolved = format is not null ? DatasetFormats.Find(format)! : detected ?? DatasetFormats.DefaultFor(code)!;
        var dataset = new Dataset
        {
            Id = datasetId,
            TenantId = tenantId,
            Country = resolved.Country,
            Format = resolved.Name,
            FileName = fileName!,
            StorageKey = storageKey,
            SizeBytes = size,
            State = DatasetState.Uploaded,
            CreatedAt = DateTimeOffset.UtcNow,
        };

        // The row and its job in one transaction; if that fails, the stored file goes too.
        Job job;
        try
        {
            job = (await client.SubmitWithRowAsync(tenantId, new ParseDatasetPayload(datasetId), new JobSettings(CallbackUrl: callbackUrl),
                async (job, ct) =>
                {
                    dataset.JobId = job.Id;
                    db.Datasets.Add(dataset);
                    await db.SaveChangesAsync(ct);
                    db.ChangeTracker.Clear();
                    return true;
                }, ct))!;
        }
        catch
        {
            await DeleteQuietlyAsync(store, storageKey);
            throw;
        }

        return TypedResults.Accepted($"/v1/datasets/{datasetId}", new DatasetCreatedResponse(
            datasetId, job.Id, dataset.Country, dataset.Format, dataset.FileName, dataset.SizeBytes, DatasetState.Uploaded.ToName()));
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
        string? code = null;
        if (country is not null)
        {
            code = Normalize(country);
            if (!DatasetFormats.Countries.Contains(code)) errors["country"] = [$"Unknown country. Countries: {string.Join(", ", DatasetFormats.Countries)}."];
        }
        Guid? after = null;
        if (cursor is not null)
        {
            if (Guid.TryParse(cursor, out var parsed)) after = parsed;
            else errors["cursor"] = ["Not a cursor from a previous page."];
        }
        if (limit is < 1 or > DatasetQueries.MaxPageSize) errors["limit"] = [$"Must be between 1 and {DatasetQueries.MaxPageSize}."];
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors);

        var pageSize = limit ?? DefaultPageSize;
        var page = await datasets.ListAsync(user.TenantScope(), code, after, pageSize, ct);
        var jobs = await jobQueries.ByIdsAsync(page.Select(d => d.JobId), ct);
        var next = page.Count == pageSize ? page[^1].Id.ToString() : null;
        return TypedResults.Ok(new DatasetListResponse(
            page.Select(d => DatasetResponse.From(d, d.JobId is { } jobId ? jobs.GetValueOrDefault(jobId) : null)).ToList(), next));
    }

    public static async Task<Results<Accepted<DatasetCreatedResponse>, ProblemHttpResult>> ReprocessDataset(
        Guid id, ClaimsPrincipal user, DatasetQueries datasets, JobQueries jobs, MonolithDbContext db, JobClient client,
        CancellationToken ct)
    {
        var dataset = await datasets.GetAsync(user.TenantScope(), id, ct);
        if (dataset is null) return NotFound(id);
        var seen = await IdleStateAsync(dataset, user, jobs, ct);
        if (seen is null) return Busy(id, "reprocessed");

        // Claim it with its new job, in one transaction: only if nobody changed it since it was read (a second
        // reprocess, a parse starting) does it go back to uploaded; the loser gets the 409.
        var seenState = dataset.State;
        var seenJob = dataset.JobId;
        var job = await client.SubmitWithRowAsync(dataset.TenantId, new ReprocessDatasetPayload(dataset.Id), JobSettings.Defaults,
            async (job, ct) => await db.Datasets
                .Where(d => d.Id == id && d.State == seenState && d.JobId == seenJob)
                .ExecuteUpdateAsync(s => s.SetProperty(d => d.State, DatasetState.Uploaded).SetProperty(d => d.JobId, job.Id), ct) == 1, ct);
        if (job is null) return Busy(id, "reprocessed");
        return TypedResults.Accepted($"/v1/datasets/{id}", new DatasetCreatedResponse(
            id, job.Id, dataset.Country, dataset.Format, dataset.FileName, dataset.SizeBytes, DatasetState.Uploaded.ToName()));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteDataset(
        Guid id, ClaimsPrincipal user, DatasetQueries datasets, JobQueries jobs, DatasetRemoval removal, CancellationToken ct)
    {
        var dataset = await datasets.GetAsync(user.TenantScope(), id, ct);
        if (dataset is null) return NotFound(id);
        if (await IdleStateAsync(dataset, user, jobs, ct) is null) return Busy(id, "deleted");
        return await removal.RemoveAsync(dataset, dataset.State, dataset.JobId, ct) ? TypedResults.NoContent() : Busy(id, "deleted");
    }

    /// <summary>
    /// The dataset's state when nothing is working on it (completed, or failed: also a dataset whose job ended
    /// without recording anything), null while it is uploaded or processing.
    /// </summary>
    private static async Task<string?> IdleStateAsync(Dataset dataset, ClaimsPrincipal user, JobQueries jobs, CancellationToken ct)
    {
        var job = dataset.JobId is { } jobId ? await jobs.GetAsync(user.TenantScope(), jobId, ct) : null;
        var state = DatasetResponse.From(dataset, job).State;
        return state is "completed" or "failed" ? state : null;
    }

    private static ProblemHttpResult NotFound(Guid id) => TypedResults.Problem(
        title: "Dataset not found.", detail: $"No dataset {id} is visible to this API key.", statusCode: StatusCodes.Status404NotFound);

    private static ProblemHttpResult Busy(Guid id, string what) => TypedResults.Problem(
        title: "The dataset is being processed.",
        detail: $"Dataset {id} is uploaded or processing; it can be {what} once its job has finished.",
        statusCode: StatusCodes.Status409Conflict);

    /// <summary>Country (required when <paramref name="requireCountry"/>) and format: known, and of one another.</summary>
    private static void Check(string? country, string? format, Dictionary<string, string[]> errors, bool requireCountry)
    {
        DatasetFormat? known = null;
        if (format is not null)
        {
            known = DatasetFormats.Find(format);
            if (known is null) errors["format"] = [$"Unknown format. Formats: {string.Join(", ", DatasetFormats.All.Select(f => f.Name))}."];
        }
        if (country is null)
        {
            if (requireCountry) errors["country"] = ["A country is required (ISO 3166-1 alpha-2, e.g. US)."];
            return;
        }
        var code = Normalize(country);
        if (!DatasetFormats.Countries.Contains(code))
        {
            errors["country"] = [$"Unknown country. Countries: {string.Join(", ", DatasetFormats.Countries)}."];
        }
        else if (known is not null && known.Country != code)
        {
            errors["format"] = [$"Format {known.Name} is for {known.Country}, not {code}."];
        }
    }

    private static string Normalize(string country) => country.Trim().ToUpperInvariant();

    private static async Task<string> ReadFieldAsync(Stream body, int maxLength, CancellationToken ct)
    {
        var buffer = new char[maxLength + 1];
        using var reader = new StreamReader(body);
        var read = await reader.ReadBlockAsync(buffer, ct);
        await body.DrainAsync(ct);
        return new string(buffer, 0, read).Trim();
    }

    private static ValidationProblem Invalid(string field, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] });

    private static Task DeleteQuietlyAsync(IFileStore store, string key) => DatasetRemoval.DeleteFileQuietlyAsync(store, key);
}
