namespace Monolith.Worker.Jobs.HttpRequests;

/// <summary>
/// A document whose stored cipher text decrypted with its key and IV (<see cref="DocumentCipher.VerifyAsync"/>), ready
/// to be decrypted again into the request body.
/// </summary>
/// <param name="Document">As the payload names it (key and IV decrypted).</param>
/// <param name="StorageKey">Where the file store keeps the cipher text.</param>
/// <param name="CipherLength">Bytes of cipher text, tag included.</param>
/// <param name="FileName">The part's file name: the payload's, else the upload's.</param>
/// <param name="ContentType">The part's Content-Type: the payload's, else the upload's.</param>
public sealed record VerifiedDocument(HttpRequestDocument Document, byte[] Key, byte[] Iv, string StorageKey, long CipherLength, string FileName, string ContentType)
{
    /// <summary>Bytes of plain text: the cipher text without its tag (GCM adds no padding).</summary>
    public long PlainLength => CipherLength - DocumentCipher.TagBytes;
}
