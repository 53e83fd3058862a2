using System.Security.Cryptography;
using Monolith.Worker.Storage;

namespace Monolith.Tests.Storage;

/// <summary>
/// What only the S3 store does: check the store's checksums on every read (bytes changed in the server's own files
/// fail the read), and fail on a store that refuses it or is not there with a <see cref="FileStoreException"/> that
/// never carries the secret key.
/// </summary>
public sealed class S3FileStoreTests(S3StoreFixture fixture) : IClassFixture<S3StoreFixture>
{
    private readonly S3FileStore _store = fixture.Store;

    [Theory]
    [InlineData(100_000)] // one PUT
    [InlineData(FileStoreContractTests.PartSize + 100_000)] // a multipart upload
    public async Task BytesChangedInTheStore_FailTheRead_AtTheirEnd(int length)
    {
        var key = $"tampered/{Guid.NewGuid():N}";
        await _store.WriteAsync(key, new MemoryStream(RandomNumberGenerator.GetBytes(length)), CancellationToken.None);
        await using (var intact = await _store.OpenReadAsync(key, CancellationToken.None))
        {
            await intact.CopyToAsync(Stream.Null); // reads whole and checks out
        }

        await using (var file = File.Open(fixture.Server.ObjectPath(key), FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = length / 2;
            var original = file.ReadByte();
            file.Position = length / 2;
            file.WriteByte((byte)(original ^ 0x01)); // same size: only the ETag can tell
        }

        await using (var tampered = await _store.OpenReadAsync(key, CancellationToken.None))
        {
            var error = await Assert.ThrowsAsync<FileStoreException>(() => tampered.CopyToAsync(Stream.Null));
            Assert.Contains("does not match its ETag", error.Message);
        }

        // A caller that checks a recorded SHA-256 itself (a transfer of an upload) gets the bytes as stored, unhashed.
        await using var unchecked_ = await _store.OpenReadAsync(key, CancellationToken.None, callerChecksContent: true);
        var read = new MemoryStream();
        await unchecked_.CopyToAsync(read);
        Assert.Equal(length, read.Length);
    }

    [Theory]
    [InlineData(S3rver.AccessKey, "not-the-secret-5f2c9a", "403 SignatureDoesNotMatch")]
    [InlineData("NOT-A-KEY-ID", "not-the-secret-5f2c9a", "403 InvalidAccessKeyId")]
    public async Task WrongCredentials_FailWithTheStoresRefusal_NeverTheSecret(string keyId, string secret, string refusal)
    {
        var options = fixture.Server.StoreOptions();
        options.AccessKeyId = keyId;
        options.SecretAccessKey = secret;
        using var store = new S3FileStore(options);

        var write = await Assert.ThrowsAsync<FileStoreException>(() => store.WriteAsync("denied/file", new MemoryStream([1, 2, 3]), CancellationToken.None));
        var read = await Assert.ThrowsAsync<FileStoreException>(() => store.OpenReadAsync("denied/file", CancellationToken.None));

        Assert.Contains(refusal, write.Message);
        Assert.Contains(refusal, read.Message);
        Assert.DoesNotContain(secret, write.ToString());
        Assert.DoesNotContain(secret, read.ToString());
    }

    [Fact]
    public async Task StoreThatIsNotThere_FailsWithAFileStoreException()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var closedPort = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop(); // nothing listens there now

        var options = fixture.Server.StoreOptions();
        options.ServiceUrl = $"http://127.0.0.1:{closedPort}";
        using var store = new S3FileStore(options);

        var error = await Assert.ThrowsAsync<FileStoreException>(() => store.OpenReadAsync("any/file", CancellationToken.None));
        Assert.Contains("S3 GET of 'any/file'", error.Message);
    }
}
