using Xunit.Abstractions;

namespace Monolith.Tests.Storage;

/// <summary><see cref="FileStoreContractTests"/> on local disk.</summary>
[Collection("Heavy")] // 200 MiB through the store keeps a core busy
public sealed class LocalFileStoreContractTests(LocalStoreFixture fixture, ITestOutputHelper output)
    : FileStoreContractTests(fixture.Store, output), IClassFixture<LocalStoreFixture>;
