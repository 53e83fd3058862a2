namespace Monolith.Api.Features.Uploads;

/// <summary>A stored document.</summary>
/// <param name="Sha256">SHA-256 of the bytes, lower-case hex: computed while they streamed in, or declared and verified for a pre-signed upload.</param>
/// <param name="ContentType">As sent (the part's or the body's Content-Type).</param>
/// <param name="Put">Only in the answer that starts a pre-signed upload: where and how to PUT the bytes.</param>
/// <param name="State">ready (usable by transfers and datasets), or for a pre-signed upload pending (not completed) or failed (its bytes were not the ones declared).</param>
public sealed record UploadResponse(Guid Id, string FileName, string ContentType, long SizeBytes, string Sha256, DateTimeOffset CreatedAt, string State,
    PresignedPutResponse? Put = null);

/// <summary>
/// <c>POST /v1/uploads</c> with a JSON body: a document the client will PUT itself to a pre-signed URL (S3 store only),
/// then complete (<c>POST /v1/uploads/{id}/complete</c>), which checks the bytes against these declarations.
/// </summary>
/// <param name="FileName">The document's name, 1 to 255 characters (no path).</param>
/// <param name="SizeBytes">Its exact size, up to Uploads__MaxBytes.</param>
/// <param name="Sha256">SHA-256 of its bytes, 64 hex digits.</param>
/// <param name="ContentType">The Content-Type the PUT must carry (it is signed into the URL).</param>
/// <param name="ExpiresInSeconds">A shorter life for the URL than Uploads__PresignedExpirySeconds (default: that).</param>
public sealed record PresignedUploadRequest(string? FileName, long? SizeBytes, string? Sha256, string? ContentType, int? ExpiresInSeconds = null);

/// <summary>How to fill a pending pre-signed upload: PUT the bytes to <paramref name="Url"/> with <paramref name="Headers"/>.</summary>
/// <param name="Method">Always PUT.</param>
/// <param name="ExpiresAt">The URL stops working at this time.</param>
public sealed record PresignedPutResponse(string Method, Uri Url, DateTimeOffset ExpiresAt, IReadOnlyDictionary<string, string> Headers);
