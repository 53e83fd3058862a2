using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Amazon.S3.Model;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Tests.Features.Datasets;
using Monolith.Tests.Features.Queues;
using Monolith.Tests.Features.Transfers;
using Monolith.Tests.Infrastructure;
using Monolith.Worker.Uploads;

using static Monolith.Tests.Storage.PresignedUploads;

namespace Monolith.Tests.Storage;

/// <summary>The transfers' service on its own <see cref="S3rver"/>, taking documents of up to 256 MiB.</summary>
public sealed class PresignedUploadsFixture : IAsyncLifetime
{
    public S3rver Server { get; private set; } = null!;
    public TransfersFactory App { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await S3rver.StartAsync();
        App = new TransfersFactory { ExtraSettings = new(Server.ServiceSettings()) { ["Uploads:MaxBytes"] = (256L << 20).ToString() } };
        await App.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await App.DisposeAsync();
        await Server.DisposeAsync();
    }
}

/// <summary>
/// Pre-signed uploads over HTTP on a real S3 server: the client PUTs the bytes to the URL with a plain HttpClient (no
/// credentials), the service verifies them on completion, and only then do transfers, datasets and downloads use them.
/// </summary>
public sealed class PresignedUploadTests(PresignedUploadsFixture fixture) : IClassFixture<PresignedUploadsFixture>, IAsyncLifetime
{
    private LoopbackServer _server = null!;

    public async Task InitializeAsync() => _server = await LoopbackServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private static async Task<JsonElement> UploadAsync(HttpClient client, Guid id) =>
        await client.GetFromJsonAsync<JsonElement>($"/v1/uploads/{id}", JobClientExtensions.Json);

    [Fact]
    public async Task LargeDocument_PutToThePresignedUrl_IsVerified_ThenTransferredAndServed()
    {
        var (client, tenantId) = await fixture.App.CreateTenantAsync();
        var path = Path.Combine(Path.GetTempPath(), $"monolith-presigned-{Guid.NewGuid():N}");
        try
        {
            string sha256;
            const long size = 100L << 20;
            await using (var file = File.Create(path))
            {
                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                var block = new byte[1 << 20];
                for (var written = 0L; written < size; written += block.Length)
                {
                    RandomNumberGenerator.Fill(block);
                    hash.AppendData(block);
                    await file.WriteAsync(block);
                }
                sha256 = Convert.ToHexStringLower(hash.GetHashAndReset());
            }
            var presigned = await StartAsync(client, new { fileName = "big.bin", sizeBytes = size, sha256, contentType = "application/octet-stream" });
            Assert.StartsWith(fixture.Server.Url, presigned.Url.ToString());

            await using (var stream = File.OpenRead(path))
            {
                using var put = await PutAsync(presigned, new StreamContent(stream));
                Assert.Equal(HttpStatusCode.OK, put.StatusCode);
            }
            Assert.Equal("pending", (await UploadAsync(client, presigned.Id)).GetProperty("state").GetString());

            using (var completed = await CompleteAsync(client, presigned.Id))
            {
                await JobClientExtensions.EnsureSuccessAsync(completed);
                var ready = await completed.Content.ReadFromJsonAsync<JsonElement>(JobClientExtensions.Json);
                Assert.Equal("ready", ready.GetProperty("state").GetString());
                Assert.Equal(sha256, ready.GetProperty("sha256").GetString());
            }
            using (var again = await CompleteAsync(client, presigned.Id)) Assert.Equal(HttpStatusCode.OK, again.StatusCode); // idempotent
            Assert.False(File.Exists(fixture.Server.ObjectPath($"incoming/{tenantId}/{presigned.Id}")));

            var transfer = await client.CreateTransferAsync(new
            {
                source = new { type = "upload", uploadId = presigned.Id },
                destination = new { type = "http", url = _server.Url("/inbox/big.bin"), method = "PUT" },
            });
            var sent = await TransferClientExtensions.WaitUntilFinishedAsync(client, transfer.Id, TimeSpan.FromMinutes(3));
            Assert.Equal("completed", sent.State);
            Assert.Equal(sha256, sent.Sha256);
            var received = Assert.Single(_server.Requests, r => r.Path == "/inbox/big.bin");
            Assert.True(received.Complete);
            Assert.Equal(sha256, received.Sha256);

            using var content = await client.GetAsync($"/v1/uploads/{presigned.Id}/content", HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, content.StatusCode);
            Assert.Equal(sha256, Convert.ToHexStringLower(await SHA256.HashDataAsync(await content.Content.ReadAsStreamAsync())));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task NamesFileUploadedThatWay_BecomesADataset_AndEitherCanBeDeletedAlone()
    {
        var (client, _) = await fixture.App.CreateTenantAsync();
        var names = Encoding.ASCII.GetBytes(string.Join("\r\n", TestFiles.YobLines(50)) + "\r\n");
        var presigned = await StartAsync(client, names, "yob2020.txt", "text/plain");
        using (var put = await PutAsync(presigned, new ByteArrayContent(names))) Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        using (var completed = await CompleteAsync(client, presigned.Id)) Assert.Equal(HttpStatusCode.OK, completed.StatusCode);

        using var created = await client.PostAsJsonAsync("/v1/datasets", new { uploadId = presigned.Id, country = "US" }, JobClientExtensions.Json);
        await JobClientExtensions.EnsureSuccessAsync(created);
        Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
        var dataset = (await created.Content.ReadFromJsonAsync<DatasetCreatedDto>(JobClientExtensions.Json))!;
        Assert.Equal("us_yob", dataset.Format);
        Assert.Equal("yob2020.txt", dataset.FileName);
        var parsed = await DatasetClientExtensions.WaitUntilFinishedAsync(client, dataset.Id);
        Assert.Equal("completed", parsed.State);
        Assert.Equal(100, parsed.RowsInserted);

        using (var deleted = await client.DeleteAsync($"/v1/datasets/{dataset.Id}")) Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(names, await client.GetByteArrayAsync($"/v1/uploads/{presigned.Id}/content")); // the upload keeps its file

        using var again = await client.PostAsJsonAsync("/v1/datasets", new { uploadId = presigned.Id, country = "US" }, JobClientExtensions.Json);
        var second = (await again.Content.ReadFromJsonAsync<DatasetCreatedDto>(JobClientExtensions.Json))!;
        using (var deleted = await client.DeleteAsync($"/v1/uploads/{presigned.Id}")) Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        var reparsed = await DatasetClientExtensions.WaitUntilFinishedAsync(client, second.Id);
        Assert.Equal("completed", reparsed.State); // the dataset keeps its copy
        Assert.Equal(100, reparsed.RowsInserted);
    }

    public static TheoryData<string> Mismatches => ["sizeBytes", "sha256", "contentType"];

    [Theory]
    [MemberData(nameof(Mismatches))]
    public async Task BytesNotAsDeclared_Are422NamingTheField_DeletedAndTheUploadFailed(string field)
    {
        var (client, tenantId) = await fixture.App.CreateTenantAsync();
        var declared = RandomNumberGenerator.GetBytes(4096);
        var presigned = await StartAsync(client, declared);
        var incoming = $"incoming/{tenantId}/{presigned.Id}";
        if (field == "contentType")
        {
            // The URL signs its Content-Type, so s3rver refuses another; a store that did not would keep it: put one past the URL.
            using (var refused = await PutAsync(presigned, new ByteArrayContent(declared), "text/html")) Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            using var s3 = fixture.Server.CreateClient();
            await s3.PutObjectAsync(new PutObjectRequest
            {
                BucketName = S3rver.Bucket, Key = incoming, InputStream = new MemoryStream(declared), ContentType = "text/html", UseChunkEncoding = false,
            });
        }
        else
        {
            var sent = field == "sizeBytes" ? declared[..4000] : RandomNumberGenerator.GetBytes(declared.Length);
            using var put = await PutAsync(presigned, new ByteArrayContent(sent));
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }
        Assert.True(File.Exists(fixture.Server.ObjectPath(incoming)));

        using var completed = await CompleteAsync(client, presigned.Id);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, completed.StatusCode);
        var problem = await completed.Content.ReadFromJsonAsync<JsonElement>(JobClientExtensions.Json);
        Assert.Equal([field], problem.GetProperty("errors").EnumerateObject().Select(p => p.Name));

        Assert.False(File.Exists(fixture.Server.ObjectPath(incoming)));
        Assert.Equal("failed", (await UploadAsync(client, presigned.Id)).GetProperty("state").GetString());
        using (var again = await CompleteAsync(client, presigned.Id)) Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
    }

    [Fact]
    public async Task ExpiredUrl_IsRefusedByTheStore()
    {
        var (client, _) = await fixture.App.CreateTenantAsync();
        var content = RandomNumberGenerator.GetBytes(1024);
        var presigned = await StartAsync(client, new { fileName = "late.pdf", sizeBytes = content.Length, sha256 = Sha256(content), contentType = "application/pdf", expiresInSeconds = 1 });
        Assert.InRange(presigned.ExpiresAt, DateTimeOffset.UtcNow.AddSeconds(-5), DateTimeOffset.UtcNow.AddSeconds(2));
        // The URL's X-Amz-Expires counts whole seconds from its signing time: wait until that moment has passed.
        while (DateTimeOffset.UtcNow < presigned.ExpiresAt.AddSeconds(1.5)) await Task.Delay(100);

        using var put = await PutAsync(presigned, new ByteArrayContent(content));
        Assert.Equal(HttpStatusCode.Forbidden, put.StatusCode);
        using var completed = await CompleteAsync(client, presigned.Id);
        Assert.Equal(HttpStatusCode.Conflict, completed.StatusCode); // nothing was PUT: still pending
        Assert.Equal("pending", (await UploadAsync(client, presigned.Id)).GetProperty("state").GetString());
    }

    [Fact]
    public async Task PendingUploadNeverCompleted_IsRemovedWithItsObject_OnceExpiredAndPastTheGrace()
    {
        var (client, tenantId) = await fixture.App.CreateTenantAsync();
        var content = RandomNumberGenerator.GetBytes(1024);
        var forgotten = await StartAsync(client, content);
        using (var put = await PutAsync(forgotten, new ByteArrayContent(content))) Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var kept = await StartAsync(client, content);
        using (var put = await PutAsync(kept, new ByteArrayContent(content))) Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        using (var completed = await CompleteAsync(client, kept.Id)) Assert.Equal(HttpStatusCode.OK, completed.StatusCode);

        await using var scope = fixture.App.Services.CreateAsyncScope();
        var uploads = scope.ServiceProvider.GetRequiredService<DirectUploads>();
        Assert.Equal(0, await uploads.RemoveExpiredAsync(forgotten.ExpiresAt, CancellationToken.None)); // within its grace
        var removed = await uploads.RemoveExpiredAsync(forgotten.ExpiresAt.AddHours(1).AddSeconds(1), CancellationToken.None);

        Assert.True(removed >= 1);
        using (var gone = await client.GetAsync($"/v1/uploads/{forgotten.Id}")) Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.False(File.Exists(fixture.Server.ObjectPath($"incoming/{tenantId}/{forgotten.Id}")));
        Assert.Equal(content, await client.GetByteArrayAsync($"/v1/uploads/{kept.Id}/content")); // a ready upload stays
    }

    [Fact]
    public async Task SomeoneElsesUpload_CannotBeCompleted()
    {
        var (owner, _) = await fixture.App.CreateTenantAsync();
        var (other, _) = await fixture.App.CreateTenantAsync();
        var content = RandomNumberGenerator.GetBytes(1024);
        var presigned = await StartAsync(owner, content);
        using (var put = await PutAsync(presigned, new ByteArrayContent(content))) Assert.Equal(HttpStatusCode.OK, put.StatusCode);

        using var completed = await CompleteAsync(other, presigned.Id);

        Assert.Equal(HttpStatusCode.NotFound, completed.StatusCode);
        Assert.Equal("pending", (await UploadAsync(owner, presigned.Id)).GetProperty("state").GetString());
    }

    [Fact]
    public async Task PendingUpload_IsUsableByNothing()
    {
        var (client, _) = await fixture.App.CreateTenantAsync();
        var content = RandomNumberGenerator.GetBytes(1024);
        var presigned = await StartAsync(client, content, "yob2021.txt", "text/plain");
        using (var put = await PutAsync(presigned, new ByteArrayContent(content))) Assert.Equal(HttpStatusCode.OK, put.StatusCode);

        using var transfer = await client.PostTransferAsync(new
        {
            source = new { type = "upload", uploadId = presigned.Id },
            destination = new { type = "directory", path = "pending.bin" },
        });
        var errors = await TransferClientExtensions.ProblemErrorsAsync(transfer);
        Assert.Contains("pending", Assert.Single(errors, e => e.Key == "source.uploadId").Value.Single());

        using var dataset = await client.PostAsJsonAsync("/v1/datasets", new { uploadId = presigned.Id, country = "US" }, JobClientExtensions.Json);
        Assert.Contains("pending", Assert.Single(await TransferClientExtensions.ProblemErrorsAsync(dataset), e => e.Key == "uploadId").Value.Single());

        using var download = await client.GetAsync($"/v1/uploads/{presigned.Id}/content");
        Assert.Equal(HttpStatusCode.Conflict, download.StatusCode);

        using var vendorCall = await client.PostAsJsonAsync("/v1/jobs", new
        {
            type = "http_request",
            payload = new
            {
                method = "POST", url = "https://vendor.example/verify",
                documents = new[] { new { uploadId = presigned.Id, key = Convert.ToBase64String(new byte[32]), iv = Convert.ToBase64String(new byte[12]), @as = "multipart", field = "scan" } },
            },
        }, JobClientExtensions.Json);
        Assert.Contains("pending", Assert.Single(await TransferClientExtensions.ProblemErrorsAsync(vendorCall), e => e.Key == "payload.documents[0].uploadId").Value.Single());
    }
}
