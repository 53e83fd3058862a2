using System.Text.Json;
using Monolith.Domain.Jobs;
using Monolith.Domain.Text;

namespace Monolith.Domain.Transfers;

/// <summary>
/// One document moved from a source to a destination by a <c>transfer_document</c> job (docs/transfers.md): what
/// was asked (source, destination, metadata; header values encrypted), how far it got, what the destination
/// answered. The job's attempts and errors are the job's own (<c>job_attempts</c>).
/// </summary>
public sealed class Transfer : IJobRow
{
    /// <summary>The <see cref="Secrets.SecretProtector"/> purpose header values are encrypted under.</summary>
    public const string HeaderPurpose = "transfer.headers";

    /// <summary>The <see cref="Secrets.SecretProtector"/> purpose an HTTP destination's form values are encrypted under.</summary>
    public const string FormPurpose = "transfer.form";

    /// <summary>How the jsonb columns are written and read.</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>UUIDv7, so ids sort by creation time.</summary>
    public Guid Id { get; set; }
    public Guid TenantId { get; set; }

    /// <summary><see cref="TransferSource"/> as jsonb, header values encrypted.</summary>
    public string Source { get; set; } = "{}";

    /// <summary><see cref="TransferDestination"/> as jsonb, header and form values encrypted.</summary>
    public string Destination { get; set; } = "{}";

    /// <summary>The client's metadata fields (a JSON object of strings), sent as form fields by a multipart POST.</summary>
    public string Metadata { get; set; } = "{}";

    /// <summary>The upload the source reads, when it is one (an upload in use by a waiting or running transfer cannot be deleted).</summary>
    public Guid? SourceUploadId { get; set; }

    public TransferState State { get; set; }

    /// <summary>Bytes read from the source and sent in the latest attempt (all of them once completed).</summary>
    public long BytesMoved { get; set; }

    /// <summary>The document's size, when known (an upload's; a URL's Content-Length or what was read).</summary>
    public long? SizeBytes { get; set; }

    /// <summary>SHA-256 (hex) of the bytes the destination received, once completed.</summary>
    public string? Sha256 { get; set; }

    /// <summary>
    /// What the first complete read of the source saw (SHA-256, size, ETag, Last-Modified): later attempts must
    /// read the same document, or the transfer fails rather than deliver a mix.
    /// </summary>
    public string? SourceSha256 { get; set; }
    public long? SourceSize { get; set; }
    public string? SourceETag { get; set; }
    public string? SourceLastModified { get; set; }

    /// <summary>The destination's answer: its HTTP status and Location header (a directory destination: the file's relative path).</summary>
    public int? DestinationStatus { get; set; }
    public string? DestinationLocation { get; set; }

    /// <summary>Why the transfer failed, when it did (at most <see cref="MaxErrorLength"/> characters: <see cref="StorableError"/>).</summary>
    public string? Error { get; set; }

    public const int MaxErrorLength = 2000;

    /// <summary>The <c>transfer_document</c> job that moves it.</summary>
    public Guid? JobId { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }

    public TransferSource ReadSource() =>
        JsonSerializer.Deserialize<TransferSource>(Source, Json) ?? throw new InvalidOperationException($"Transfer {Id} has no source.");

    public TransferDestination ReadDestination() =>
        JsonSerializer.Deserialize<TransferDestination>(Destination, Json) ?? throw new InvalidOperationException($"Transfer {Id} has no destination.");

    /// <summary>An error for <see cref="Error"/>: outside text (a status line, a file name) made storable, and clipped.</summary>
    public static string StorableError(string message)
    {
        var storable = StorableText.Sanitize(message)!;
        return storable.Length <= MaxErrorLength ? storable : storable[..(MaxErrorLength - 3)] + "...";
    }

    public Dictionary<string, string> ReadMetadata() => JsonSerializer.Deserialize<Dictionary<string, string>>(Metadata, Json) ?? [];
}
