using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Monolith.Api.Infrastructure;
using Monolith.Api.Infrastructure.OpenApi;
using Monolith.Domain.Imports;
using Monolith.Domain.Jobs;
using Monolith.Worker.Engine;
using Monolith.Worker.Jobs.Imports;
using Monolith.Worker.Storage;

namespace Monolith.Api.Features.Imports;

/// <summary>CSV/TSV imports: a file's rows upserted into a snapshot by an <c>import_records</c> job (docs/imports.md).</summary>
public static class ImportsApi
{
    public static RouteGroupBuilder MapImportsApi(this IEndpointRouteBuilder routes)
    {
        var imports = routes.MapGroup("/v1/imports").WithTags("Imports").RequireAuthorization();

        imports.MapPost("/", CreateImport).WithName("CreateImport")
            .Accepts<UploadImportForm>("multipart/form-data", "application/json") // JSON: CreateImportFromUploadRequest
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .WithSummary("Import a CSV/TSV file into a snapshot (multipart/form-data: file, snapshot, idColumn, optional delimiter, encoding, hasHeader, maxBadRowShare)")
            .WithDescription("The file (plain, gzip or zip) is streamed to storage (limit Imports__MaxUploadBytes, 1 GiB by default: 413 past it, " +
                             "nothing kept) and its rows upserted into the snapshot by id, in batches each committed with its checkpoint. " +
                             "Bad rows are listed with their line numbers; the import fails past maxBadRowShare. 202 with the import id, " +
                             "the job id and a Location header. Or a JSON body {uploadId, snapshot, idColumn, …} naming a ready upload.");
        imports.MapGet("/", ListImports).WithName("ListImports").ProducesValidationProblem()
            .WithParameterFacts("limit", minimum: 1, maximum: ImportQueries.MaxPageSize)
            .WithSummary("List imports, newest first, with cursor paging (optionally one snapshot's)");
        imports.MapGet("/{id:guid}", GetImport).WithName("GetImport").ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("An import's state, rows read, records upserted, bad rows with line numbers, progress by bytes and error");
        imports.MapPost("/{id:guid}/cancel", CancelImport).WithName("CancelImport")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .WithSummary("Stop an import between batches; the batches committed so far stay in the snapshot");
        imports.MapPost("/{id:guid}/retry", RetryImport).WithName("RetryImport")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .WithSummary("Run a failed or cancelled import again: it resumes from its checkpoint");
        imports.MapPost("/{id:guid}/reprocess", ReprocessImport).WithName("ReprocessImport")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .WithSummary("Read the stored file again from its start with a new job (409 while the import is queued or running)");
        return imports;
    }

    public static async Task<Results<Accepted<ImportCreatedResponse>, ValidationProblem, ProblemHttpResult>> CreateImport(
        HttpContext http, ClaimsPrincipal user, IFileStore store, ImportCommands commands, IOptions<ImportOptions> options, CancellationToken ct)
    {
        if (JsonBody.IsJson(http.Request)) return await CreateImportFromUpload(http, user, commands, ct);
        var maxBytes = options.Value.MaxUploadBytes;
        var tenantId = user.TenantId();
        var importId = Guid.CreateVersion7();
        await using var upload = new UploadReader(http, store, ImportCommands.StorageKeyOf(tenantId, importId), maxBytes);
        var form = new ImportFormFields();
        var read = await upload.ReadFormAsync(form, "Send a multipart/form-data body with the file in a 'file' field.", ct);
        if (read.TooLarge)
        {
            return TypedResults.Problem(
                title: "The file is too large.",
                detail: $"Files of at most {maxBytes:N0} bytes are accepted (Imports__MaxUploadBytes). Nothing was kept.",
                statusCode: StatusCodes.Status413PayloadTooLarge);
        }
        if ((read.Invalid ?? form.Incomplete()) is { } invalid) return invalid;

        var outcome = await commands.CreateAsync(tenantId, importId, upload.StorageKey, form.FileName!, upload.SizeBytes, form.ToNewImport(), ct);
        if (outcome.Status == CommandStatus.Invalid) return TypedResults.ValidationProblem(outcome.Errors!);
        upload.Keep();
        return TypedResults.Accepted($"/v1/imports/{importId}", ImportCreatedResponse.From(outcome.Row!, outcome.Job!));
    }

    /// <summary>An import of a ready upload, named by a JSON body (<see cref="CreateImportFromUploadRequest"/>).</summary>
    private static async Task<Results<Accepted<ImportCreatedResponse>, ValidationProblem, ProblemHttpResult>> CreateImportFromUpload(
        HttpContext http, ClaimsPrincipal user, ImportCommands commands, CancellationToken ct)
    {
        var (request, invalid) = await JsonBody.ReadAsync<CreateImportFromUploadRequest>(http, ct);
        if (invalid is not null) return invalid;
        var outcome = await commands.CreateFromUploadAsync(user.TenantId(), request!.UploadId!.Value, request.ToNewImport(), ct);
        if (outcome.Status == CommandStatus.Invalid) return TypedResults.ValidationProblem(outcome.Errors!);
        return TypedResults.Accepted($"/v1/imports/{outcome.Row!.Id}", ImportCreatedResponse.From(outcome.Row, outcome.Job!));
    }

    public static async Task<Results<Ok<ImportResponse>, ProblemHttpResult>> GetImport(
        Guid id, ClaimsPrincipal user, ImportQueries imports, JobQueries jobs, CancellationToken ct)
    {
        var import = await imports.GetAsync(user.TenantScope(), id, ct);
        if (import is null) return NotFound(id);
        var job = import.JobId is { } jobId ? await jobs.GetAsync(user.TenantScope(), jobId, ct) : null;
        return TypedResults.Ok(ImportResponse.From(import, job, DateTimeOffset.UtcNow));
    }

    /// <param name="snapshot">Only this snapshot's imports.</param>
    /// <param name="cursor">The <c>nextCursor</c> of the previous page.</param>
    /// <param name="limit">Page size, 1 to 200 (default 50).</param>
    public static async Task<Results<Ok<ImportListResponse>, ValidationProblem>> ListImports(
        string? snapshot, string? cursor, int? limit, ClaimsPrincipal user, ImportQueries imports, JobQueries jobQueries, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        var paging = PageRequest.Read(cursor, limit, ImportQueries.MaxPageSize, errors);
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors);

        var page = await imports.ListAsync(user.TenantScope(), snapshot, paging.After, paging.Size, ct);
        var jobs = await jobQueries.ByIdsAsync(page.Select(i => i.JobId), ct);
        var now = DateTimeOffset.UtcNow;
        return TypedResults.Ok(new ImportListResponse(
            page.Select(i => ImportResponse.From(i, i.JobId is { } jobId ? jobs.GetValueOrDefault(jobId) : null, now)).ToList(),
            paging.NextCursor(page, row => row.Id)));
    }

    public static async Task<Results<Accepted<ImportResponse>, ProblemHttpResult>> CancelImport(
        Guid id, ClaimsPrincipal user, ImportCommands commands, CancellationToken ct) =>
        Answer(id, await commands.CancelAsync(user.TenantScope(), id, ct), "The import has finished.", $"Import {id} is no longer running or waiting to run.");

    public static async Task<Results<Accepted<ImportResponse>, ProblemHttpResult>> RetryImport(
        Guid id, ClaimsPrincipal user, ImportCommands commands, CancellationToken ct) =>
        Answer(id, await commands.RetryAsync(user.TenantScope(), id, ct), "Only a failed or cancelled import can be retried.",
            $"Import {id} is completed (reprocess reads it again), running or waiting to run.");

    public static async Task<Results<Accepted<ImportResponse>, ProblemHttpResult>> ReprocessImport(
        Guid id, ClaimsPrincipal user, ImportCommands commands, CancellationToken ct) =>
        Answer(id, await commands.ReprocessAsync(user.TenantScope(), id, ct), "The import is being processed.",
            $"Import {id} is queued or running; it can be reprocessed once its job has finished.");

    private static Results<Accepted<ImportResponse>, ProblemHttpResult> Answer(Guid id, RowCommandOutcome<Import> outcome, string conflict, string detail) =>
        outcome.Status switch
        {
            CommandStatus.NotFound => NotFound(id),
            CommandStatus.Conflict => TypedResults.Problem(title: conflict, detail: detail, statusCode: StatusCodes.Status409Conflict),
            _ => TypedResults.Accepted($"/v1/imports/{id}", ImportResponse.From(outcome.Row!, outcome.Job, DateTimeOffset.UtcNow)),
        };

    private static ProblemHttpResult NotFound(Guid id) => TypedResults.Problem(
        title: "Import not found.", detail: $"No import {id} is visible to this API key.", statusCode: StatusCodes.Status404NotFound);
}
