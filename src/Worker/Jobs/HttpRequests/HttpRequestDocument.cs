namespace Monolith.Worker.Jobs.HttpRequests;

/// <summary>
/// A client-encrypted document a vendor call carries: the cipher text of an upload of the same tenant
/// (<c>POST /v1/uploads</c>), as WebCrypto's AES-GCM writes it (cipher text, then the 16-byte tag), with the key and
/// IV to decrypt it. The worker decrypts it in a stream (<see cref="DocumentCipher"/>) and sends the plain bytes as a
/// multipart part or a base64 JSON value. <see cref="Key"/> and <see cref="Iv"/> are secrets: encrypted at rest with
/// the payload's other secrets and never shown or logged.
/// </summary>
/// <param name="UploadId">The upload holding the cipher text.</param>
/// <param name="Key">The AES-256 key, base64 (32 bytes).</param>
/// <param name="Iv">The 96-bit IV (GCM nonce), base64 (12 bytes).</param>
/// <param name="As"><c>multipart</c> (the request is multipart/form-data and the document one of its parts) or
/// <c>base64</c> (the document's base64 is a string value in the JSON body).</param>
/// <param name="Field">The part's name (multipart), or the body path whose value is set to the base64 (base64).</param>
/// <param name="FileName">The part's file name (multipart only; default the upload's).</param>
/// <param name="ContentType">The part's Content-Type (multipart only; default the upload's).</param>
public sealed record HttpRequestDocument(
    Guid? UploadId,
    string? Key,
    string? Iv,
    string? As,
    string? Field,
    string? FileName = null,
    string? ContentType = null)
{
    public const string Multipart = "multipart";
    public const string Base64 = "base64";
    public static readonly string[] Modes = [Multipart, Base64];

    /// <summary>Length of the key (AES-256) and of the IV (96 bits, WebCrypto's and GCM's recommended size), in bytes.</summary>
    public const int KeyBytes = 32, IvBytes = 12;
}
