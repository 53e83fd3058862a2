using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Monolith.Tests.Features.Queues;
using Monolith.Tests.Features.Transfers;
using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Storage;

/// <summary>The transfers' service (<see cref="TransfersFactory"/>) configured for S3 (<c>Storage__Kind=S3</c>) on its own <see cref="S3rver"/>.</summary>
public sealed class S3TransfersFixture : IAsyncLifetime
{
    /// <summary>S3's smallest part: an upload under <see cref="TransfersFactory.MaxUploadBytes"/> still takes a multipart upload.</summary>
    public const int PartSize = 5 << 20;

    public S3rver Server { get; private set; } = null!;
    public TransfersFactory App { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await S3rver.StartAsync();
        App = new TransfersFactory { ExtraSettings = Server.ServiceSettings(PartSize) };
        await App.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await App.DisposeAsync();
        await Server.DisposeAsync();
    }
}

/// <summary>
/// Over HTTP, with the service on S3: <c>POST /v1/uploads</c> streams the document into the bucket (not onto the
/// local disk), and a transfer of it reads it back from there to an HTTP destination and to a directory, with the
/// SHA-256 checked end to end.
/// </summary>
public sealed class S3TransferTests(S3TransfersFixture fixture) : IClassFixture<S3TransfersFixture>, IAsyncLifetime
{
    private LoopbackServer _server = null!;

    public async Task InitializeAsync() => _server = await LoopbackServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    [Fact]
    public async Task UploadKeptInS3_IsTransferredToHttpAndToADirectory_WithTheRightSha256()
    {
        var app = fixture.App;
        var (client, tenantId) = await app.CreateTenantAsync();
        var content = RandomNumberGenerator.GetBytes(S3TransfersFixture.PartSize + 1_234_567); // two parts

        var upload = await client.UploadBytesAsync(content, "scan.pdf");

        Assert.Equal(Sha256(content), upload.Sha256);
        Assert.Equal(content.Length, upload.SizeBytes);
        Assert.Empty(app.StoredFiles()); // nothing on the local disk
        Assert.Single(Directory.GetFiles(Path.Combine(fixture.Server.DataDirectory, S3rver.Bucket), "*._S3rver_object", SearchOption.AllDirectories),
            file => new FileInfo(file).Length == content.Length);

        var toHttp = await client.CreateTransferAsync(new
        {
            source = new { type = "upload", uploadId = upload.Id },
            destination = new { type = "http", url = _server.Url("/inbox/scan.pdf"), method = "PUT" },
        });
        var toDirectory = await client.CreateTransferAsync(new
        {
            source = new { type = "upload", uploadId = upload.Id },
            destination = new { type = "directory", path = "from-s3/scan.pdf" },
        });

        var sent = await client.WaitUntilFinishedAsync(toHttp.Id);
        Assert.Equal("completed", sent.State);
        Assert.Equal(Sha256(content), sent.Sha256);
        var received = Assert.Single(_server.Requests, r => r.Path == "/inbox/scan.pdf");
        Assert.True(received.Complete);
        Assert.Equal(Sha256(content), received.Sha256);
        Assert.True(received.DigestMatches);

        var written = await client.WaitUntilFinishedAsync(toDirectory.Id);
        Assert.Equal("completed", written.State);
        Assert.Equal(Sha256(content), written.Sha256);
        Assert.Equal(content, await File.ReadAllBytesAsync(Path.Combine(app.TenantDirectory(tenantId), "from-s3", "scan.pdf")));
    }

    [Fact]
    public async Task UploadWhoseObjectNoLongerMatchesItsSha256_FailsAtOnceWithChecksumMismatch_AndDeliversNothing()
    {
        var app = fixture.App;
        var (client, _) = await app.CreateTenantAsync();
        var content = RandomNumberGenerator.GetBytes(600_000);
        var upload = await client.UploadBytesAsync(content, "scan.pdf");
        var stored = Assert.Single(Directory.GetFiles(Path.Combine(fixture.Server.DataDirectory, S3rver.Bucket), "*._S3rver_object", SearchOption.AllDirectories),
            f => f.Contains(upload.Id.ToString(), StringComparison.Ordinal));
        await using (var file = new FileStream(stored, FileMode.Open, FileAccess.Write))
        {
            file.Position = 300_000;
            file.WriteByte((byte)(content[300_000] ^ 0xFF)); // one byte flipped in the store, same size
        }

        var transfer = await client.CreateTransferAsync(new
        {
            source = new { type = "upload", uploadId = upload.Id },
            destination = new { type = "http", url = _server.Url("/corrupt"), method = "PUT" },
        });

        var failed = await client.WaitUntilFinishedAsync(transfer.Id);
        Assert.Equal("failed", failed.State);
        Assert.Contains("Checksum mismatch", failed.Error); // the upload's SHA-256, checked by the transfer, not the store's ETag
        Assert.Single(failed.Attempts); // not retried as an I/O failure of the store
        Assert.DoesNotContain(_server.Requests, r => r.Path == "/corrupt" && r.Complete);
    }

    [Fact]
    public async Task UploadKeptInS3_AnswersRangeRequestsWith206_FromRangedGets()
    {
        var (client, _) = await fixture.App.CreateTenantAsync();
        // Two parts, and a size of its own (the other test counts the bucket's objects of its size).
        var content = RandomNumberGenerator.GetBytes(S3TransfersFixture.PartSize + 2_345_678);
        var upload = await client.UploadBytesAsync(content, "scan.pdf");
        var size = content.Length;

        async Task<HttpResponseMessage> GetAsync(Action<HttpRequestHeaders> headers)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/uploads/{upload.Id}/content");
            headers(request.Headers);
            return await client.SendAsync(request);
        }

        var across = S3TransfersFixture.PartSize - 1000; // spans the two parts
        using (var response = await GetAsync(h => h.Range = new RangeHeaderValue(across, across + 1999)))
        {
            Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
            Assert.Equal($"bytes {across}-{across + 1999}/{size}", response.Content.Headers.ContentRange!.ToString());
            Assert.Equal(content[across..(across + 2000)], await response.Content.ReadAsByteArrayAsync());
        }
        using (var response = await GetAsync(h => h.Range = new RangeHeaderValue(null, 500)))
        {
            Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
            Assert.Equal(content[^500..], await response.Content.ReadAsByteArrayAsync());
        }
        using (var response = await GetAsync(h => h.Range = new RangeHeaderValue(size, null)))
        {
            Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, response.StatusCode);
            Assert.Equal($"bytes */{size}", response.Content.Headers.ContentRange!.ToString());
        }
        using (var response = await GetAsync(h =>
               {
                   h.Range = new RangeHeaderValue(0, 9);
                   h.IfRange = new RangeConditionHeaderValue(new EntityTagHeaderValue("\"another\""));
               }))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode); // the document changed, as far as the client knows: all of it
            Assert.Equal(content, await response.Content.ReadAsByteArrayAsync());
        }
        using (var response = await GetAsync(_ => { }))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(content, await response.Content.ReadAsByteArrayAsync());
        }
    }
}
