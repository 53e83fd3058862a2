using Monolith.Worker.Storage;

namespace Monolith.Tests.Storage;

/// <summary>A <see cref="LocalFileStore"/> on a fresh temporary directory, removed at the end.</summary>
public sealed class LocalStoreFixture : IDisposable
{
    public LocalFileStore Store { get; } = new(Directory.CreateTempSubdirectory("monolith-store-").FullName);

    public void Dispose() => Directory.Delete(Store.Root, recursive: true);
}

/// <summary>An <see cref="S3FileStore"/> on its own <see cref="S3rver"/>, parts of <see cref="FileStoreContractTests.PartSize"/>.</summary>
public sealed class S3StoreFixture : IAsyncLifetime
{
    public S3rver Server { get; private set; } = null!;
    public S3FileStore Store { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await S3rver.StartAsync();
        Store = new S3FileStore(Server.StoreOptions(FileStoreContractTests.PartSize));
    }

    public async Task DisposeAsync()
    {
        Store.Dispose();
        await Server.DisposeAsync();
    }
}
