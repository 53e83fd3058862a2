namespace Monolith.Api.Features.Uploads;

/// <summary>A stored document.</summary>
/// <param name="Sha256">SHA-256 of the bytes, lower-case hex, computed while they streamed in.</param>
/// <param name="ContentType">As sent (the part's or the body's Content-Type).</param>
public sealed record UploadResponse(Guid Id, string FileName, string ContentType, long SizeBytes, string Sha256, DateTimeOffset CreatedAt);
