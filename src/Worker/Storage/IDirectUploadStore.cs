namespace Monolith.Worker.Storage;

/// <summary>
/// A file store that clients can write to directly, with a pre-signed URL, so that the bytes of a document never pass
/// through an API node (<c>POST /v1/uploads</c> with a JSON body, docs/uploads.md). Only the S3 store is one
/// (<see cref="S3FileStore"/>): ask with <c>store as IDirectUploadStore</c>.
/// </summary>
public interface IDirectUploadStore
{
    /// <summary>
    /// A URL that lets whoever holds it PUT one object under <paramref name="key"/> until <paramref name="expiresAt"/>,
    /// with <paramref name="contentType"/> as its (signed) Content-Type. Nothing is sent to the store.
    /// </summary>
    PresignedPut PresignPut(string key, string contentType, DateTimeOffset expiresAt);

    /// <summary>A stored object's size and Content-Type; <see cref="StoredFileNotFoundException"/> when there is none.</summary>
    Task<StoredObjectInfo> InfoAsync(string key, CancellationToken ct);
}

/// <summary>A pre-signed PUT: the URL, when it stops working, and the headers the client must send with it.</summary>
public sealed record PresignedPut(Uri Url, DateTimeOffset ExpiresAt, IReadOnlyDictionary<string, string> Headers);

/// <summary>What the store says of an object: its size and Content-Type (as the client PUT it).</summary>
public sealed record StoredObjectInfo(long SizeBytes, string? ContentType);
