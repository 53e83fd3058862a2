namespace Monolith.Domain.Uploads;

/// <summary>
/// A document a client handed in (<c>POST /v1/uploads</c>): its bytes are in the file store under
/// <see cref="StorageKey"/>, their SHA-256 computed while they streamed in. Transfers read it as a source and
/// check the bytes against <see cref="Sha256"/> as they send them.
/// </summary>
public sealed class Upload
{
    /// <summary>UUIDv7, so ids sort by creation time.</summary>
    public Guid Id { get; set; }
    public Guid TenantId { get; set; }

    /// <summary>Where the file store keeps the bytes (<c>uploads/{tenant}/{id}</c>).</summary>
    public string StorageKey { get; set; } = "";
    public long SizeBytes { get; set; }

    /// <summary>SHA-256 of the bytes, lower-case hex.</summary>
    public string Sha256 { get; set; } = "";

    /// <summary>As the client sent it (the part's or the body's Content-Type), <c>application/octet-stream</c> when none.</summary>
    public string ContentType { get; set; } = "";

    /// <summary>The client's file name (the multipart part's, the <c>filename</c> query or Content-Disposition), or the id.</summary>
    public string FileName { get; set; } = "";

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Ready for transfers, datasets and downloads only once verified (<see cref="IsUsable"/>).</summary>
    public UploadState State { get; set; } = UploadState.Ready;

    /// <summary>
    /// A pending upload's pre-signed URL stops working at this time; past it and a grace period an upload still pending
    /// is removed with its object. Null for an upload streamed through the API.
    /// </summary>
    public DateTimeOffset? ExpiresAt { get; set; }

    /// <summary>
    /// The one rule for whoever reads an upload's bytes (transfers, datasets, <c>GET …/content</c>): only a ready upload's
    /// bytes are there and are what <see cref="Sha256"/> says.
    /// </summary>
    public bool IsUsable => State == UploadState.Ready;

    /// <summary>Why the bytes cannot be read yet (or ever), for an answer; null when <see cref="IsUsable"/>.</summary>
    public string? UnusableReason => State switch
    {
        UploadState.Pending => $"Upload {Id} is pending: PUT its bytes to the pre-signed URL and complete it (POST /v1/uploads/{Id}/complete) first.",
        UploadState.Failed => $"Upload {Id} failed verification: its bytes were not the ones declared, and were removed.",
        _ => null,
    };

    /// <summary>
    /// Where the client's PUT lands for a pre-signed upload. Once verified, the bytes are a copy under a key of their own
    /// (then <see cref="StorageKey"/>), so bytes PUT again with a URL that has not expired yet never replace a verified
    /// document.
    /// </summary>
    public string IncomingKey => $"incoming/{TenantId}/{Id}";
}
