using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Monolith.Api.Infrastructure;
using Monolith.Api.Infrastructure.OpenApi;
using Monolith.Domain.Jobs;
using Monolith.Domain.Persistence;
using Monolith.Domain.Transfers;
using Monolith.Domain.Uploads;
using Monolith.Worker.Storage;

namespace Monolith.Api.Features.Uploads;

/// <summary>Documents handed to the service, kept in the file store for transfers to send (docs/transfers.md).</summary>
public static class UploadsApi
{
    public static RouteGroupBuilder MapUploadsApi(this IEndpointRouteBuilder routes)
    {
        var uploads = routes.MapGroup("/v1/uploads").WithTags("Uploads").RequireAuthorization();
        uploads.MapPost("/", UploadDocument).WithName("UploadDocument")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .WithSummary("Store a document: multipart/form-data with a 'file' part, or the raw request body")
            .WithDescription("Streamed to the file store (limit Uploads__MaxBytes, counted as it arrives: 413 past it, nothing kept) " +
                             "and hashed on the way. A raw body keeps its Content-Type; its name comes from the 'filename' query " +
                             "parameter or a Content-Disposition header. 201 with id, size, SHA-256 and content type. (Any Content-Type is " +
                             "accepted, so no request body type is declared.)");
        uploads.MapGet("/{id:guid}", GetUpload).WithName("GetUpload").ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("A stored document's name, size, SHA-256 and content type");
        uploads.MapGet("/{id:guid}/content", GetUploadContent).WithName("GetUploadContent").ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesAnyMediaType(StatusCodes.Status200OK, StatusCodes.Status206PartialContent).Produces(StatusCodes.Status304NotModified)
            .ProducesProblem(StatusCodes.Status412PreconditionFailed).Produces(StatusCodes.Status416RangeNotSatisfiable)
            .WithSummary("The stored bytes, streamed; Range requests are answered with 206");
        uploads.MapDelete("/{id:guid}", DeleteUpload).WithName("DeleteUpload")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .WithSummary("Remove a stored document (409 while a waiting or running transfer reads it)");
        return uploads;
    }

    /// <param name="filename">The document's name, for a raw body (else its Content-Disposition, else the id).</param>
    public static async Task<Results<Created<UploadResponse>, ValidationProblem, ProblemHttpResult>> UploadDocument(
        string? filename, HttpContext http, ClaimsPrincipal user, IFileStore store, MonolithDbContext db, IOptions<UploadOptions> options,
        CancellationToken ct)
    {
        var maxBytes = options.Value.MaxBytes;
        var id = Guid.CreateVersion7();
        var upload = new Upload { Id = id, TenantId = user.TenantId(), StorageKey = $"uploads/{user.TenantId()}/{id}", CreatedAt = DateTimeOffset.UtcNow };
        await using var reader = new UploadReader(http, store, upload.StorageKey, maxBytes, computeSha256: true);
        var fields = new DocumentFields(upload);
        UploadRead read;
        if (UploadReader.IsMultipart(http.Request))
        {
            // The first 'file' part; other parts are skipped.
            read = await reader.ReadFormAsync(fields, "The multipart/form-data body has no boundary.", ct);
            if (read == UploadRead.Read && !reader.Stored) return Invalid("file", "A document is required (a multipart part named 'file' with a file name).");
        }
        else
        {
            var given = filename;
            if (given is null && ContentDispositionHeaderValue.TryParse(http.Request.Headers.ContentDisposition.ToString(), out var disposition))
            {
                given = UploadReader.GivenFileName(disposition);
            }
            if (fields.Take(UploadReader.FileNameOf(given), http.Request.ContentType, contentTypeField: "Content-Type", contentTypePrefix: "") is { } problem)
            {
                return problem;
            }
            read = await reader.ReadBodyAsync(ct);
        }
        if (read.TooLarge)
        {
            return TypedResults.Problem(
                title: "The document is too large.",
                detail: $"Documents of at most {maxBytes:N0} bytes are accepted (Uploads__MaxBytes). Nothing was kept.",
                statusCode: StatusCodes.Status413PayloadTooLarge);
        }
        if (read.Invalid is { } invalid) return invalid;

        upload.SizeBytes = reader.SizeBytes;
        upload.Sha256 = reader.Sha256!;
        db.Uploads.Add(upload);
        await db.SaveChangesAsync(ct);
        reader.Keep();
        return TypedResults.Created($"/v1/uploads/{id}", UploadResponseOf(upload));
    }

    public static async Task<Results<Ok<UploadResponse>, ProblemHttpResult>> GetUpload(
        Guid id, ClaimsPrincipal user, TransferQueries queries, CancellationToken ct) =>
        await queries.GetUploadAsync(user.TenantScope(), id, ct) is { } upload ? TypedResults.Ok(UploadResponseOf(upload)) : NotFound(id);

    public static async Task<Results<FileStreamHttpResult, ProblemHttpResult>> GetUploadContent(
        Guid id, HttpContext http, ClaimsPrincipal user, TransferQueries queries, IFileStore store, CancellationToken ct)
    {
        // Only byte ranges are served; a Range of another unit (items=0-1) is ignored, as RFC 9110 §14.2 says, and the
        // whole body answered (ASP.NET Core's range handling would read it as bytes).
        if (RangeHeaderValue.TryParse(http.Request.Headers.Range.ToString(), out var range)
            && !range.Unit.Equals("bytes", StringComparison.OrdinalIgnoreCase))
        {
            http.Request.Headers.Range = default;
        }
        if (await queries.GetUploadAsync(user.TenantScope(), id, ct) is not { } upload) return NotFound(id);
        Stream content;
        try
        {
            content = await store.OpenReadAsync(upload.StorageKey, ct);
        }
        catch (StoredFileNotFoundException)
        {
            return NotFound(id);
        }
        // A seekable stream (the local store's FileStream): ASP.NET Core answers Range and If-Range itself.
        return TypedResults.Stream(content, upload.ContentType, upload.FileName, upload.CreatedAt,
            new EntityTagHeaderValue($"\"{upload.Sha256}\""), enableRangeProcessing: true);
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteUpload(
        Guid id, ClaimsPrincipal user, TransferQueries queries, MonolithDbContext db, IFileStore store, CancellationToken ct)
    {
        if (await queries.GetUploadAsync(user.TenantScope(), id, ct) is not { } upload) return NotFound(id);
        var inUse = await db.Transfers.AnyAsync(t => t.SourceUploadId == id
            && (t.State == TransferState.Queued || t.State == TransferState.Running)
            && db.Jobs.Any(j => j.Id == t.JobId && j.State != JobState.Succeeded && j.State != JobState.Failed && j.State != JobState.Cancelled), ct);
        if (inUse)
        {
            return TypedResults.Problem(
                title: "The document is in use.",
                detail: $"Upload {id} is the source of a waiting or running transfer; delete it once the transfer has finished (or cancel it).",
                statusCode: StatusCodes.Status409Conflict);
        }
        await db.Uploads.Where(u => u.Id == id).ExecuteDeleteAsync(ct);
        await store.DeleteQuietlyAsync(upload.StorageKey);
        return TypedResults.NoContent();
    }

    private static UploadResponse UploadResponseOf(Upload u) => new(u.Id, u.FileName, u.ContentType, u.SizeBytes, u.Sha256, u.CreatedAt);

    private static ProblemHttpResult NotFound(Guid id) => TypedResults.Problem(
        title: "Upload not found.", detail: $"No upload {id} is visible to this API key.", statusCode: StatusCodes.Status404NotFound);

    private static ValidationProblem Invalid(string field, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] });
}
