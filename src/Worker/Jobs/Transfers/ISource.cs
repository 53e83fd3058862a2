using Monolith.Domain.Transfers;

namespace Monolith.Worker.Jobs.Transfers;

/// <summary>
/// One kind of place a transfer reads a document from (<c>source.type</c>). Add a kind by implementing this and
/// registering it in <see cref="TransferExtensions.AddTransfers"/>; the API accepts every registered kind.
/// </summary>
public interface ISource
{
    /// <summary>The <c>source.type</c> this reads (<c>upload</c>, <c>url</c>).</summary>
    string Type { get; }

    /// <summary>
    /// Opens the document for one attempt. Throws <see cref="Engine.PermanentJobException"/> when it does not
    /// exist (or changed since an earlier attempt read it), <see cref="Engine.RetryableJobException"/> for a failure
    /// that may pass.
    /// </summary>
    Task<SourceDocument> OpenAsync(Transfer transfer, TransferSource source, CancellationToken ct);
}

/// <summary>An opened source: its bytes as a stream, what is known of them, and what they must turn out to be.</summary>
/// <param name="Content">Read once, front to back.</param>
/// <param name="Length">The size, when the source tells it up front.</param>
/// <param name="ExpectedSha256">Hex SHA-256 the bytes must have (an upload's recorded one; a URL's first complete read).</param>
/// <param name="ExpectedLength">The size the bytes must have, likewise.</param>
/// <param name="ETag">The source's ETag (URL sources), recorded with the first complete read.</param>
/// <param name="LastModified">The source's Last-Modified (URL sources), likewise.</param>
/// <param name="Owner">Disposed with the document (an HTTP response).</param>
public sealed record SourceDocument(
    Stream Content,
    long? Length,
    string ContentType,
    string FileName,
    string? ExpectedSha256,
    long? ExpectedLength,
    string? ETag = null,
    string? LastModified = null,
    IDisposable? Owner = null) : IAsyncDisposable
{
    public async ValueTask DisposeAsync()
    {
        await Content.DisposeAsync();
        Owner?.Dispose();
    }
}
