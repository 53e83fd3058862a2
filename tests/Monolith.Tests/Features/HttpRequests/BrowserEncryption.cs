using System.Security.Cryptography;
using Monolith.Tests.Features.Transfers;

namespace Monolith.Tests.Features.HttpRequests;

/// <summary>
/// The browser's part of the encrypted-document flow, as WebCrypto does it: a random AES-256 key, a random 96-bit IV,
/// <c>AES-GCM</c> with a 128-bit tag, the output being the cipher text followed by the tag; then the cipher text
/// uploaded through <c>POST /v1/uploads</c>.
/// </summary>
public sealed record BrowserEncryption(byte[] Plain, byte[] Cipher, byte[] Key, byte[] Iv)
{
    public string KeyBase64 => Convert.ToBase64String(Key);
    public string IvBase64 => Convert.ToBase64String(Iv);

    /// <summary><paramref name="size"/> random bytes (a scan), encrypted.</summary>
    public static BrowserEncryption OfRandom(int size) => Encrypt(RandomNumberGenerator.GetBytes(size));

    public static BrowserEncryption Encrypt(byte[] plain)
    {
        var key = RandomNumberGenerator.GetBytes(32);
        var iv = RandomNumberGenerator.GetBytes(12);
        var cipher = new byte[plain.Length + 16];
        using var aes = new AesGcm(key, tagSizeInBytes: 16);
        aes.Encrypt(iv, plain, cipher.AsSpan(0, plain.Length), cipher.AsSpan(plain.Length));
        return new BrowserEncryption(plain, cipher, key, iv);
    }

    /// <summary>Uploads the cipher text (as a browser would, with the image's name and type) and returns the upload's id.</summary>
    public async Task<Guid> UploadAsync(HttpClient client, string fileName = "id-front.jpg.enc", string contentType = "application/octet-stream") =>
        (await client.UploadBytesAsync(Cipher, fileName, contentType)).Id;

    /// <summary>A payload's document naming <paramref name="uploadId"/> with this key and IV.</summary>
    public object Document(Guid uploadId, string mode, string field, string? fileName = null, string? contentType = null) =>
        new { uploadId, key = KeyBase64, iv = IvBase64, @as = mode, field, fileName, contentType };
}
