using System.Net;
using System.Security.Cryptography;
using Monolith.Worker.Storage;

namespace Monolith.Worker.Jobs.HttpRequests;

/// <summary>
/// A document's plain bytes as request content, decrypted from the file store while HttpClient sends them (raw, or
/// as base64 text for a JSON value): no more than a chunk of it is ever in memory. Its length is known in advance,
/// so a request (or a multipart body holding it) carries a Content-Length. Each send reads the store again.
/// </summary>
public sealed class DecryptedDocumentContent(IFileStore store, VerifiedDocument document, bool base64) : HttpContent
{
    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken ct)
    {
        await using var cipher = await store.OpenReadAsync(document.StorageKey, ct);
        if (!base64)
        {
            await DocumentCipher.DecryptAsync(cipher, document.Key, document.Iv, document.CipherLength, stream.WriteAsync, ct);
            return;
        }
        await using var encoder = new CryptoStream(stream, new ToBase64Transform(), CryptoStreamMode.Write, leaveOpen: true);
        await DocumentCipher.DecryptAsync(cipher, document.Key, document.Iv, document.CipherLength, encoder.WriteAsync, ct);
        await encoder.FlushFinalBlockAsync(ct);
    }

    protected override bool TryComputeLength(out long length)
    {
        length = base64 ? (document.PlainLength + 2) / 3 * 4 : document.PlainLength;
        return true;
    }
}
