using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Monolith.Api.Infrastructure;
using Monolith.Domain.Datasets;
using Monolith.Domain.Jobs;
using Monolith.Domain.Persistence;
using Monolith.Worker.Engine;
using Monolith.Worker.Jobs.Datasets;
using Monolith.Worker.Storage;

namespace Monolith.Api.Features.Datasets;

/// <summary>Names files: upload one (it is parsed by a <c>parse_dataset</c> job), then watch it (docs/datasets.md).</summary>
public static class DatasetsApi
{
    public const string ParseJobType = "parse_dataset";

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
        datasets.MapGet("/{id:guid}", GetDataset).WithName("GetDataset").ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("A dataset's state, rows inserted and rejected (with the first bad lines), the job's progress and timings");
        return datasets;
    }

    public static async Task<Results<Accepted<DatasetCreatedResponse>, ValidationProblem, ProblemHttpResult>> UploadDataset(
        HttpContext http,
        ClaimsPrincipal user,
        IFileStore store,
        MonolithDbContext db,
        JobClient client,
        JobTypeRegistry types,
        IOptions<DatasetOptions> options,
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
        string? country = null, format = null, fileName = null;
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
                    await using var limited = new LimitedReadStream(section.Body, maxBytes);
                    size = await store.WriteAsync(storageKey, limited, ct);
                }
                else if (!disposition.IsFileDisposition() && name is "country" or "format")
                {
                    var value = await ReadFieldAsync(section.Body, ct);
                    if (name == "country") country = value;
                    else format = value;
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
        catch (InvalidDataException ex)
        {
            await DeleteQuietlyAsync(store, storageKey);
            return Invalid("file", $"The multipart body is malformed: {ex.Message}");
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

        var resolved = format is null ? DatasetFormats.DefaultFor(Normalize(country!))! : DatasetFormats.Find(format)!;
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

        // The row first (the job reads it), then the job; a dataset is never left without its job: if the submit
        // fails, the row and the file go too.
        Job job;
        try
        {
            db.Datasets.Add(dataset);
            await db.SaveChangesAsync(ct);
            db.ChangeTracker.Clear();
            job = await SubmitParseJobAsync(client, types, dataset, ct);
        }
        catch
        {
            await db.Datasets.Where(d => d.Id == datasetId).ExecuteDeleteAsync(CancellationToken.None);
            await DeleteQuietlyAsync(store, storageKey);
            throw;
        }
        // The job records itself on the dataset too when it starts, so a failure here loses nothing.
        await db.Datasets.Where(d => d.Id == datasetId && d.JobId == null)
            .ExecuteUpdateAsync(s => s.SetProperty(d => d.JobId, job.Id), ct);

        return TypedResults.Accepted($"/v1/datasets/{datasetId}", new DatasetCreatedResponse(
            datasetId, job.Id, dataset.Country, dataset.Format, dataset.FileName, dataset.SizeBytes, DatasetState.Uploaded.ToName()));
    }

    public static async Task<Results<Ok<DatasetResponse>, ProblemHttpResult>> GetDataset(
        Guid id, ClaimsPrincipal user, DatasetQueries datasets, JobQueries jobs, CancellationToken ct)
    {
        var dataset = await datasets.GetAsync(user.TenantScope(), id, ct);
        if (dataset is null)
        {
            return TypedResults.Problem(title: "Dataset not found.", detail: $"No dataset {id} is visible to this API key.",
                statusCode: StatusCodes.Status404NotFound);
        }
        var job = dataset.JobId is { } jobId ? await jobs.GetAsync(user.TenantScope(), jobId, ct) : null;
        return TypedResults.Ok(DatasetResponse.From(dataset, job));
    }

    private static async Task<Job> SubmitParseJobAsync(JobClient client, JobTypeRegistry types, Dataset dataset, CancellationToken ct)
    {
        var definition = types.Find(ParseJobType) ?? throw new InvalidOperationException($"Job type {ParseJobType} is not registered.");
        var outcome = await client.SubmitAsync(new NewJob(
            TenantId: dataset.TenantId,
            Type: definition.Kind,
            PayloadJson: JsonSerializer.Serialize(new ParseDatasetPayload(dataset.Id), JobTypeDefinition.PayloadJson),
            Queue: definition.Defaults.Queue,
            Priority: 0,
            RunAt: DateTimeOffset.UtcNow,
            MaxAttempts: definition.Defaults.MaxAttempts,
            TimeoutSeconds: definition.Defaults.TimeoutSeconds,
            BackoffSeconds: definition.Defaults.BackoffSeconds,
            IdempotencyKey: null,
            RequestHash: null), ct);
        return outcome.Job;
    }

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

    private static async Task<string> ReadFieldAsync(Stream body, CancellationToken ct)
    {
        var buffer = new char[MaxFieldLength + 1];
        using var reader = new StreamReader(body);
        var read = await reader.ReadBlockAsync(buffer, ct);
        await body.DrainAsync(ct);
        return new string(buffer, 0, read).Trim();
    }

    private static ValidationProblem Invalid(string field, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] });

    private static async Task DeleteQuietlyAsync(IFileStore store, string key)
    {
        try
        {
            await store.DeleteAsync(key, CancellationToken.None);
        }
        catch (IOException)
        {
            // Best effort: an orphaned file is harmless and has no dataset row pointing at it.
        }
    }
}
