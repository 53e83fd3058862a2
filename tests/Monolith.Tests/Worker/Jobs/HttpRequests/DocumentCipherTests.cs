using System.Security.Cryptography;
using Monolith.Tests.Features.HttpRequests;
using Monolith.Worker.Jobs.HttpRequests;

namespace Monolith.Tests.Worker.Jobs.HttpRequests;

/// <summary>
/// <see cref="DocumentCipher"/> on WebCrypto-shaped output (<see cref="BrowserEncryption"/>): it decrypts to the plain
/// bytes in chunks, and when the tag does not match (the stored file changed after it was verified) the sink never
/// gets the whole document: the last block is held back until the tag is checked.
/// </summary>
public sealed class DocumentCipherTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(15)]
    [InlineData(DocumentCipher.ChunkBytes * 3 + 5)]
    public async Task Decrypts_ToThePlainBytes(int size)
    {
        var scan = BrowserEncryption.OfRandom(size);
        using var received = new MemoryStream();

        await DocumentCipher.DecryptAsync(new MemoryStream(scan.Cipher), scan.Key, scan.Iv, scan.Cipher.Length, received.WriteAsync, CancellationToken.None);

        Assert.Equal(scan.Plain, received.ToArray());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(DocumentCipher.ChunkBytes * 2 + 3)] // the last block's cipher text
    [InlineData(DocumentCipher.ChunkBytes * 2 + 10)] // in the tag
    public async Task ATamperedCipherText_NeverReachesTheSinkWhole(int index)
    {
        var scan = BrowserEncryption.OfRandom(DocumentCipher.ChunkBytes * 2 + 7);
        var tampered = scan.Cipher.ToArray();
        tampered[index] ^= 0x80;
        using var received = new MemoryStream();

        var error = await Assert.ThrowsAsync<DocumentUnreadableException>(() =>
            DocumentCipher.DecryptAsync(new MemoryStream(tampered), scan.Key, scan.Iv, tampered.Length, received.WriteAsync, CancellationToken.None));

        Assert.Contains("tag does not match", error.Message);
        Assert.True(received.Length < scan.Plain.Length, $"{received.Length} of {scan.Plain.Length} bytes were handed over.");
    }

    [Fact]
    public async Task AStoredFileOfAnotherLength_IsUnreadable()
    {
        var scan = BrowserEncryption.OfRandom(1_000);

        var error = await Assert.ThrowsAsync<DocumentUnreadableException>(() =>
            DocumentCipher.VerifyAsync(new MemoryStream(scan.Cipher), scan.Key, scan.Iv, scan.Cipher.Length + 1, CancellationToken.None));

        Assert.Contains("bytes uploaded", error.Message);
    }

    [Fact]
    public async Task AWrongIv_IsUnreadable()
    {
        var scan = BrowserEncryption.OfRandom(100);

        await Assert.ThrowsAsync<DocumentUnreadableException>(() =>
            DocumentCipher.VerifyAsync(new MemoryStream(scan.Cipher), scan.Key, RandomNumberGenerator.GetBytes(12), scan.Cipher.Length, CancellationToken.None));
    }
}
