using System.Diagnostics;
using System.Security.Cryptography;
using Monolith.Worker.Storage;
using Xunit.Abstractions;

namespace Monolith.Tests.Storage;

/// <summary>
/// What <see cref="IFileStore"/> promises, run against each store (<see cref="LocalFileStoreContractTests"/>,
/// <see cref="S3FileStoreContractTests"/>): a large file streamed through whole, a missing key, delete, overwrite, and a
/// write that fails mid-way leaving nothing (and the previous file intact). Sizes cross the S3 store's part size
/// (<see cref="PartSize"/>), so both its single PUT and its multipart upload are taken.
/// </summary>
public abstract class FileStoreContractTests(IFileStore store, ITestOutputHelper output)
{
    /// <summary>The S3 store's part size in these tests (its default); the local store has none, the sizes still apply.</summary>
    public const int PartSize = 8 << 20;

    private static string NewKey() => $"contract/{Guid.NewGuid():N}/file";

    private async Task<string> ReadSha256Async(string key)
    {
        await using var stream = await store.OpenReadAsync(key, CancellationToken.None);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream));
    }

    private async Task<string> WriteAsync(string key, long length)
    {
        await using var content = new GeneratedStream(length);
        Assert.Equal(length, await store.WriteAsync(key, content, CancellationToken.None));
        return content.Sha256!;
    }

    [Fact]
    public async Task LargeFile_StreamedInAndOut_ComesBackWithTheSameSha256()
    {
        const long length = 200L << 20;
        var key = NewKey();
        var clock = Stopwatch.StartNew();

        var written = await WriteAsync(key, length);
        var writeSeconds = clock.Elapsed.TotalSeconds;
        clock.Restart();
        var read = await ReadSha256Async(key);
        var readSeconds = clock.Elapsed.TotalSeconds;

        Assert.Equal(written, read);
        output.WriteLine($"{store.GetType().Name}: 200 MiB written in {writeSeconds:F1} s ({200 / writeSeconds:F0} MiB/s), " +
                         $"read and hashed in {readSeconds:F1} s ({200 / readSeconds:F0} MiB/s)");
        await store.DeleteAsync(key, CancellationToken.None);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(PartSize - 1)]
    [InlineData(PartSize)]
    [InlineData(2 * PartSize + 3)]
    public async Task FilesAroundThePartSize_RoundTrip(int length)
    {
        var key = NewKey();

        var written = await WriteAsync(key, length);

        Assert.Equal(written, await ReadSha256Async(key));
    }

    [Fact]
    public async Task MissingKey_CannotBeOpened_AndDeletingItIsNoError()
    {
        var key = NewKey();

        await Assert.ThrowsAsync<StoredFileNotFoundException>(() => store.OpenReadAsync(key, CancellationToken.None));
        await store.DeleteAsync(key, CancellationToken.None);
        await Assert.ThrowsAsync<StoredFileNotFoundException>(() => store.OpenReadAsync(key, CancellationToken.None));
    }

    [Fact]
    public async Task Delete_RemovesTheFile()
    {
        var key = NewKey();
        await WriteAsync(key, 1000);

        await store.DeleteAsync(key, CancellationToken.None);

        await Assert.ThrowsAsync<StoredFileNotFoundException>(() => store.OpenReadAsync(key, CancellationToken.None));
    }

    [Fact]
    public async Task Overwrite_ReplacesTheWholeFile_LargerOrSmaller()
    {
        var key = NewKey();
        await WriteAsync(key, 1000);

        var larger = await WriteAsync(key, PartSize + 5);
        Assert.Equal(larger, await ReadSha256Async(key));

        var smaller = await WriteAsync(key, 10);
        Assert.Equal(smaller, await ReadSha256Async(key));
    }

    [Theory]
    [InlineData(1000)] // before the S3 store sends anything
    [InlineData(PartSize + PartSize / 2)] // mid-way through a multipart upload
    public async Task WriteThatFailsMidWay_LeavesNoFile_AndKeepsThePreviousOne(long failAfter)
    {
        var fresh = NewKey();
        var existing = NewKey();
        var previous = await WriteAsync(existing, 5000);

        foreach (var key in new[] { fresh, existing })
        {
            await using var content = new GeneratedStream(3L * PartSize, failAfter);
            var error = await Assert.ThrowsAsync<IOException>(() => store.WriteAsync(key, content, CancellationToken.None));
            Assert.Contains("broke off", error.Message);
        }

        await Assert.ThrowsAsync<StoredFileNotFoundException>(() => store.OpenReadAsync(fresh, CancellationToken.None));
        Assert.Equal(previous, await ReadSha256Async(existing));
    }

    [Theory]
    [InlineData("")]
    [InlineData("../outside")]
    [InlineData("a//b")]
    [InlineData("a/./b")]
    [InlineData("a\\b")]
    public async Task KeysBreakingTheRule_AreRefused(string key)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => store.WriteAsync(key, new MemoryStream([1]), CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => store.OpenReadAsync(key, CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => store.DeleteAsync(key, CancellationToken.None));
    }
}
