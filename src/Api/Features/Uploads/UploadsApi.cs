using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;
using Monolith.Api.Infrastructure;
using Monolith.Api.Infrastructure.OpenApi;
using Monolith.Domain.Jobs;
using Monolith.Domain.Persistence;
using Monolith.Domain.Transfers;
using Monolith.Domain.Uploads;
using Monolith.Worker.Storage;
using Monolith.Worker.Uploads;

namespace Monolith.Api.Features.Uploads;

/// <summary>Documents handed to the service, kept in the file store for transfers to send (docs/transfers.md).</summary>
public static class UploadsApi
{
    public static RouteGroupBuilder MapUploadsApi(this IEndpointRouteBuilder routes)
    {
        var uploads = routes.MapGroup("/v1/uploads").WithTags("Uploads").RequireAuthorization();
        uploads.MapPost("/", UploadDocument).WithName("UploadDocument")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .WithSummary("Store a document: multipart/form-data with a 'file' part, or the raw request body; or, with ?presigned=true, get a pre-signed URL to PUT it to")
            .WithDescription("With ?presigned=true, a JSON body declares a document " +
                             "the client PUTs itself to the store (fileName, sizeBytes, sha256, contentType, optional expiresInSeconds): " +
                             "201 with the pending upload, the pre-signed URL, its expiry and the headers the PUT must carry; then " +
                             "POST /v1/uploads/{id}/complete. Only with the S3 store (409 otherwise). docs/uploads.md. " +
                             "Otherwise the document is streamed to the file store (limit Uploads__MaxBytes, counted as it arrives: 413 past it, nothing kept) " +
                             "and hashed on the way. A raw body keeps its Content-Type; its name comes from the 'filename' query " +
                             "parameter or a Content-Disposition header. 201 with id, size, SHA-256 and content type. (Any Content-Type is " +
                             "accepted, so no request body type is declared.)");
        uploads.MapPost("/{id:guid}/complete", CompleteUpload).WithName("CompleteUpload")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesValidationProblem(StatusCodes.Status422UnprocessableEntity)
            .WithSummary("Verify the bytes PUT to a pre-signed URL and make the upload ready")
            .WithDescription("The object must be there (409 while nothing was PUT: the upload stays pending) with the declared size, " +
                             "Content-Type and SHA-256 (streamed through the store). A mismatch answers 422 naming the field, deletes " +
                             "the object and marks the upload failed. Completing a ready upload answers 200 again.");
        uploads.MapGet("/{id:guid}", GetUpload).WithName("GetUpload").ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("A stored document's name, size, SHA-256 and content type");
        uploads.MapGet("/{id:guid}/content", GetUploadContent).WithName("GetUploadContent").ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesAnyMediaType(StatusCodes.Status200OK, StatusCodes.Status206PartialContent).Produces(StatusCodes.Status304NotModified)
            .ProducesProblem(StatusCodes.Status412PreconditionFailed).Produces(StatusCodes.Status416RangeNotSatisfiable)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .WithSummary("The stored bytes, streamed; Range requests are answered with 206 (409 while a pre-signed upload is not ready)");
        uploads.MapDelete("/{id:guid}", DeleteUpload).WithName("DeleteUpload")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .WithSummary("Remove a stored document (409 while a waiting or running transfer reads it)");
        return uploads;
    }

    /// <param name="filename">The document's name, for a raw body (else its Content-Disposition, else the id).</param>
    /// <param name="presigned">true: the JSON body declares a document the client PUTs to the store itself (docs/uploads.md).</param>
    public static async Task<Results<Created<UploadResponse>, ValidationProblem, ProblemHttpResult>> UploadDocument(
        string? filename, bool? presigned, HttpContext http, ClaimsPrincipal user, IFileStore store, MonolithDbContext db, IOptions<UploadOptions> options,
        DirectUploads direct, CancellationToken ct)
    {
        if (presigned == true)
        {
            return await StartPresignedUpload(http, user, direct, ct);
        }
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

    /// <summary>A pending upload and its pre-signed PUT, or 409 when the file store takes no direct uploads.</summary>
    private static async Task<Results<Created<UploadResponse>, ValidationProblem, ProblemHttpResult>> StartPresignedUpload(
        HttpContext http, ClaimsPrincipal user, DirectUploads direct, CancellationToken ct)
    {
        var (request, invalid) = await JsonBody.ReadAsync<PresignedUploadRequest>(http, ct);
        if (invalid is not null) return invalid;
        var started = await direct.StartAsync(user.TenantId(),
            new NewDirectUpload(request!.FileName!, request.SizeBytes!.Value, request.Sha256!.ToLowerInvariant(), request.ContentType!, request.ExpiresInSeconds), ct);
        if (started is not { Upload: { } u, Put: { } put })
        {
            return TypedResults.Problem(
                title: "Pre-signed uploads need Storage:Kind S3.",
                detail: "This service keeps files on its local disk, which clients cannot write to directly: send the document " +
                        "itself to POST /v1/uploads (multipart/form-data or the raw body).",
                statusCode: StatusCodes.Status409Conflict);
        }
        return TypedResults.Created($"/v1/uploads/{u.Id}", UploadResponseOf(u) with { Put = new PresignedPutResponse("PUT", put.Url, put.ExpiresAt, put.Headers) });
    }

    public static async Task<Results<Ok<UploadResponse>, ProblemHttpResult>> CompleteUpload(
        Guid id, ClaimsPrincipal user, DirectUploads direct, CancellationToken ct)
    {
        var completion = await direct.CompleteAsync(user.TenantScope(), id, ct);
        return completion.Status switch
        {
            UploadCompletionStatus.Ready => TypedResults.Ok(UploadResponseOf(completion.Upload!)),
            UploadCompletionStatus.NotFound => NotFound(id),
            UploadCompletionStatus.Mismatch => TypedResults.Problem(new HttpValidationProblemDetails(
                new Dictionary<string, string[]> { [completion.Mismatch!.Field] = [completion.Mismatch.Message] })
            {
                Title = "The bytes PUT are not the ones declared: they were deleted and the upload failed.",
                Status = StatusCodes.Status422UnprocessableEntity,
            }),
            UploadCompletionStatus.NotPut => TypedResults.Problem(
                title: "Nothing was PUT yet.",
                detail: $"No object was PUT to upload {id}'s pre-signed URL; PUT the bytes, then complete it. The upload stays pending.",
                statusCode: StatusCodes.Status409Conflict),
            UploadCompletionStatus.Expired => TypedResults.Problem(
                title: "The upload expired.",
                detail: $"Upload {id} was not completed in time (its URL's expiry and Uploads__PendingGraceSeconds); it is being removed. Start a new one.",
                statusCode: StatusCodes.Status409Conflict),
            _ => TypedResults.Problem(
                title: "The upload failed verification.",
                detail: completion.Upload!.UnusableReason, statusCode: StatusCodes.Status409Conflict),
        };
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
        if (upload.UnusableReason is { } unusable)
        {
            return TypedResults.Problem(title: "The upload is not ready.", detail: unusable, statusCode: StatusCodes.Status409Conflict);
        }
        Stream content;
        try
        {
            if (store is S3FileStore s3 && http.Request.Headers.Range.Count > 0)
            {
                // S3's bodies are not seekable: a Range is answered from ranged GETs (after a HEAD, so that a missing
                // object is a 404 and an unreachable store a 503 before anything is sent).
                await s3.InfoAsync(upload.StorageKey, ct);
                content = s3.OpenRanged(upload.StorageKey, upload.SizeBytes);
            }
            else
            {
                content = await store.OpenReadAsync(upload.StorageKey, ct);
            }
        }
        catch (StoredFileNotFoundException)
        {
            return NotFound(id);
        }
        // A seekable stream (the local store's FileStream, the S3 store's ranged view): ASP.NET Core answers Range
        // and If-Range itself; the S3 store's whole body is not seekable, so without a Range it is streamed as it is.
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
        if (!upload.IsUsable) await store.DeleteQuietlyAsync(upload.IncomingKey); // what a pre-signed PUT left
        return TypedResults.NoContent();
    }

    private static UploadResponse UploadResponseOf(Upload u) => new(u.Id, u.FileName, u.ContentType, u.SizeBytes, u.Sha256, u.CreatedAt, u.State.ToName());

    private static ProblemHttpResult NotFound(Guid id) => TypedResults.Problem(
        title: "Upload not found.", detail: $"No upload {id} is visible to this API key.", statusCode: StatusCodes.Status404NotFound);

    private static ValidationProblem Invalid(string field, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] });
}
