using Monolith.Domain.Transfers;

namespace Monolith.Worker.Jobs.Transfers;

/// <summary>
/// One kind of place a transfer delivers a document to (<c>destination.type</c>). Add a kind by implementing this
/// and registering it in <see cref="TransferExtensions.AddTransfers"/>. A destination must be safe to send to
/// again (a retry, a re-run after a crash): the same document, delivered twice, must leave one copy.
/// </summary>
public interface IDestination
{
    /// <summary>The <c>destination.type</c> this delivers to (<c>http</c>, <c>directory</c>).</summary>
    string Type { get; }

    /// <summary>
    /// Delivers <paramref name="document"/>, reading its <see cref="OutgoingDocument.Content"/> to the end, and
    /// returns what the destination answered. Failures are thrown as for <see cref="ISource.OpenAsync"/>.
    /// </summary>
    Task<DestinationAnswer> SendAsync(TransferDestination destination, OutgoingDocument document, CancellationToken ct);
}

/// <summary>The document on its way: a stream that hashes what it hands out and verifies it before the last byte.</summary>
/// <param name="TenantId">The transfer's tenant (a directory destination writes in its part of the root only).</param>
/// <param name="IdempotencyKey">The same on every attempt of the transfer (<c>transfer-{id}</c>).</param>
/// <param name="Metadata">The client's metadata fields.</param>
public sealed record OutgoingDocument(
    Guid TransferId,
    Guid TenantId,
    string IdempotencyKey,
    TransferStream Content,
    long? Length,
    string ContentType,
    string FileName,
    IReadOnlyDictionary<string, string> Metadata);

/// <summary>The destination's answer: its HTTP status and Location (a directory: the file's path as given, in the tenant's part of the root).</summary>
public sealed record DestinationAnswer(int? Status, string? Location);
