using Xunit.Abstractions;

namespace Monolith.Tests.Storage;

/// <summary><see cref="FileStoreContractTests"/> on an S3-protocol server on 127.0.0.1 (<see cref="S3rver"/>).</summary>
[Collection("Heavy")] // 200 MiB through the store keeps a core busy
public sealed class S3FileStoreContractTests(S3StoreFixture fixture, ITestOutputHelper output)
    : FileStoreContractTests(fixture.Store, output), IClassFixture<S3StoreFixture>;
