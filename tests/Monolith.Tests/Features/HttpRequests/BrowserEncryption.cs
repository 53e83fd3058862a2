using System.Buffers.Text;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using Monolith.Tests.Features.Transfers;
using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Features.HttpRequests;

/// <summary>
/// The browser's part of the encrypted-document flow, as WebCrypto does it: a random AES-256 key, a random 96-bit IV,
/// <c>AES-GCM</c> with a 128-bit tag, the output being the cipher text followed by the tag; then the cipher text
/// uploaded through <c>POST /v1/uploads</c>, streamed or pre-signed.
/// </summary>
public sealed record BrowserEncryption(byte[] Plain, byte[] Cipher, byte[] Key, byte[] Iv)
{
    public string KeyBase64 => Convert.ToBase64String(Key);
    public string IvBase64 => Convert.ToBase64String(Iv);

    /// <summary>The key and the IV as a leak would show them: base64, base64url (unpadded) and hex, both cases.</summary>
    public string[] Secrets =>
    [
        .. new[] { Key, Iv }.SelectMany(bytes => new[]
        {
            Convert.ToBase64String(bytes), Base64Url.EncodeToString(bytes), Convert.ToHexStringLower(bytes), Convert.ToHexString(bytes),
        }),
    ];

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

    /// <summary>
    /// Uploads the cipher text as a browser would on S3: <c>POST /v1/uploads?presigned=true</c>, a PUT of the bytes to the
    /// URL it answers with a client that has no credentials and no proxy, then <c>POST /v1/uploads/{id}/complete</c>.
    /// </summary>
    public async Task<Guid> UploadPresignedAsync(HttpClient client, string fileName = "id-front.jpg.enc", string contentType = "application/octet-stream")
    {
        var started = await client.PostJsonAsync<JsonElement>("/v1/uploads?presigned=true",
            new { fileName, sizeBytes = Cipher.Length, sha256 = Convert.ToHexStringLower(SHA256.HashData(Cipher)), contentType });
        var id = started.GetProperty("id").GetGuid();
        using (var store = new HttpClient(new SocketsHttpHandler { UseProxy = false }))
        using (var content = new ByteArrayContent(Cipher))
        {
            content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
            using var put = await store.PutAsync(started.GetProperty("put").GetProperty("url").GetString(), content);
            await JobClientExtensions.EnsureSuccessAsync(put);
        }
        using var completed = await client.PostAsync($"/v1/uploads/{id}/complete", null);
        await JobClientExtensions.EnsureSuccessAsync(completed);
        Assert.Equal("ready", JsonDocument.Parse(await completed.Content.ReadAsStringAsync()).RootElement.GetProperty("state").GetString());
        return id;
    }

    /// <summary>A payload's document naming <paramref name="uploadId"/> with this key and IV.</summary>
    public object Document(Guid uploadId, string mode, string field, string? fileName = null, string? contentType = null) =>
        new { uploadId, key = KeyBase64, iv = IvBase64, @as = mode, field, fileName, contentType };
}
