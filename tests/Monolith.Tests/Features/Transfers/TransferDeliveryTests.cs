using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Monolith.Tests.Features.Queues;
using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Features.Transfers;

/// <summary>
/// Documents moved for real: uploaded over HTTP, sent by the embedded worker to a directory under the configured
/// root or to a Kestrel server on 127.0.0.1 started by the test, which records what it received and answers as
/// scripted (failures, Retry-After).
/// </summary>
public sealed class TransferDeliveryTests(TransfersFactory app) : IClassFixture<TransfersFactory>, IAsyncLifetime
{
    private LoopbackServer _server = null!;

    public async Task InitializeAsync() => _server = await LoopbackServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    [Fact]
    public async Task UploadToDirectory_WritesOneVerifiedFile_InTheTenantsPart_AndNoTemporaryFiles()
    {
        var (client, tenantId) = await app.CreateTenantAsync();
        var content = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 17); // several buffers and progress reports
        var upload = await client.UploadBytesAsync(content);
        var path = $"out-{Guid.NewGuid():N}/2026/report.pdf";

        var created = await client.CreateTransferAsync(new { source = new { type = "upload", uploadId = upload.Id }, destination = new { type = "directory", path } });
        var transfer = await client.WaitUntilFinishedAsync(created.Id);

        Assert.Equal("completed", transfer.State);
        Assert.Equal(Sha256(content), transfer.Sha256);
        Assert.Equal(content.Length, transfer.BytesMoved);
        Assert.Equal(path, transfer.DestinationAnswer!.Location);
        var written = Path.Combine(app.TenantDirectory(tenantId), path);
        Assert.Equal(content, await File.ReadAllBytesAsync(written));
        Assert.Equal(["report.pdf"], Directory.GetFiles(Path.GetDirectoryName(written)!).Select(Path.GetFileName));
        Assert.Equal(created.JobId, transfer.Job!.Id);
        Assert.Equal("succeeded", transfer.Job.State);
        Assert.Single(transfer.Attempts, a => a.Outcome == "succeeded");
    }

    [Fact]
    public async Task UploadToHttpPut_SendsTheBytes_WithIdempotencyKeyAndContentDigest()
    {
        var client = await app.CreateTenantClientAsync();
        var content = RandomNumberGenerator.GetBytes(1024 * 1024 + 5);
        var upload = await client.UploadBytesAsync(content, "scan.pdf");

        var created = await client.CreateTransferAsync(new
        {
            source = new { type = "upload", uploadId = upload.Id },
            destination = new { type = "http", url = _server.Url("/inbox/scan.pdf"), method = "PUT", headers = new Dictionary<string, string> { ["X-Team"] = "claims" } },
        });
        var transfer = await client.WaitUntilFinishedAsync(created.Id);

        Assert.Equal("completed", transfer.State);
        var received = Assert.Single(_server.Requests, r => r.Path == "/inbox/scan.pdf");
        Assert.Equal("PUT", received.Method);
        Assert.True(received.Complete);
        Assert.Equal(Sha256(content), received.Sha256);
        Assert.Equal(content.Length, received.Length);
        Assert.True(received.DigestMatches);
        Assert.Equal($"transfer-{created.Id}", received.IdempotencyKey);
        Assert.Equal("claims", received.Headers["X-Team"]);
        Assert.Equal("application/pdf", received.Headers["Content-Type"]);
        Assert.Equal(Sha256(content), transfer.Sha256);
        Assert.Equal(201, transfer.DestinationAnswer!.Status);
        Assert.Equal($"/stored/{Sha256(content)}", transfer.DestinationAnswer.Location);
    }

    [Fact]
    public async Task UploadToHttpPost_SendsMultipart_WithFormAndMetadataFields_TheFileAndItsSha256()
    {
        var client = await app.CreateTenantClientAsync();
        var content = RandomNumberGenerator.GetBytes(700_000);
        var upload = await client.UploadBytesAsync(content, "claim form.pdf");

        var created = await client.CreateTransferAsync(new
        {
            source = new { type = "upload", uploadId = upload.Id },
            destination = new { type = "http", url = _server.Url("/forms"), method = "POST", form = new Dictionary<string, string> { ["channel"] = "web" } },
            metadata = new Dictionary<string, string> { ["caseNumber"] = "C-42", ["applicant"] = "A. Smith" },
        });
        var transfer = await client.WaitUntilFinishedAsync(created.Id);

        Assert.Equal("completed", transfer.State);
        var received = Assert.Single(_server.Requests, r => r.Path == "/forms");
        Assert.Equal("POST", received.Method);
        Assert.StartsWith("multipart/form-data", received.Headers["Content-Type"]);
        Assert.Equal($"transfer-{created.Id}", received.IdempotencyKey);
        Assert.Equal("web", received.Form["channel"]);
        Assert.Equal("C-42", received.Form["caseNumber"]);
        Assert.Equal("A. Smith", received.Form["applicant"]);
        Assert.Equal(Sha256(content), received.Form["sha256"]);
        Assert.Equal(new ReceivedFile("file", "claim form.pdf", "application/pdf", content.Length, Sha256(content)), received.File);
        Assert.Equal(new Dictionary<string, string> { ["caseNumber"] = "C-42", ["applicant"] = "A. Smith" }, transfer.Metadata);
    }

    [Fact]
    public async Task UrlToHttp_CopiesTheDocument_SendingTheSourceHeaders()
    {
        var client = await app.CreateTenantClientAsync();
        var content = RandomNumberGenerator.GetBytes(2 * 1024 * 1024 + 3);
        _server.Serve("/docs/letter.pdf", content, requiredAuthorization: "Bearer source-token");

        var created = await client.CreateTransferAsync(new
        {
            source = new { type = "url", url = _server.Url("/docs/letter.pdf"), headers = new Dictionary<string, string> { ["Authorization"] = "Bearer source-token" } },
            destination = new { type = "http", url = _server.Url("/copies/letter.pdf"), method = "PUT" },
        });
        var transfer = await client.WaitUntilFinishedAsync(created.Id);

        Assert.Equal("completed", transfer.State);
        var received = Assert.Single(_server.Requests, r => r.Path == "/copies/letter.pdf");
        Assert.True(received.Complete);
        Assert.Equal(Sha256(content), received.Sha256);
        Assert.Equal("application/pdf", received.Headers["Content-Type"]);
        Assert.Equal(Sha256(content), transfer.Sha256);
        Assert.Equal(content.Length, transfer.SizeBytes);
    }

    [Fact]
    public async Task DestinationFailingTwiceWith503_ThenSucceeds_ReceivesOneCompleteCopy_WithTheSameIdempotencyKey()
    {
        var client = await app.CreateTenantClientAsync();
        var content = RandomNumberGenerator.GetBytes(500_000);
        var upload = await client.UploadBytesAsync(content);
        _server.FailNext(503);
        _server.FailNext(503);

        var created = await client.CreateTransferAsync(new
        {
            source = new { type = "upload", uploadId = upload.Id },
            destination = new { type = "http", url = _server.Url("/flaky"), method = "PUT" },
        });
        var transfer = await client.WaitUntilFinishedAsync(created.Id);

        Assert.Equal("completed", transfer.State);
        var requests = _server.Requests.Where(r => r.Path == "/flaky").ToList();
        Assert.Equal([503, 503, 201], requests.Select(r => r.Status));
        Assert.All(requests, r => Assert.Equal($"transfer-{created.Id}", r.IdempotencyKey));
        var accepted = Assert.Single(requests, r => r.Status == 201);
        Assert.Equal(Sha256(content), accepted.Sha256);
        Assert.Equal(["failed", "failed", "succeeded"], transfer.Attempts.Select(a => a.Outcome));
        Assert.All(transfer.Attempts.Take(2), a => Assert.Contains("503", a.Error));
    }

    [Fact]
    public async Task DestinationAnswering400_FailsAtOnce_WithTheAnswerAsError()
    {
        var client = await app.CreateTenantClientAsync();
        var upload = await client.UploadBytesAsync(RandomNumberGenerator.GetBytes(1000));
        _server.FailNext(400);

        var created = await client.CreateTransferAsync(new
        {
            source = new { type = "upload", uploadId = upload.Id },
            destination = new { type = "http", url = _server.Url("/rejects"), method = "PUT" },
        });
        var transfer = await client.WaitUntilFinishedAsync(created.Id);

        Assert.Equal("failed", transfer.State);
        Assert.Contains("The destination answered 400", transfer.Error);
        Assert.Single(transfer.Attempts);
        Assert.Single(_server.Requests, r => r.Path == "/rejects");
        Assert.Null(transfer.Sha256);
    }

    [Fact]
    public async Task DestinationAnswering429WithRetryAfter_IsTriedAgainNoSooner()
    {
        var client = await app.CreateTenantClientAsync();
        var upload = await client.UploadBytesAsync(RandomNumberGenerator.GetBytes(1000));
        _server.FailNext(429, headers: new Dictionary<string, string> { ["Retry-After"] = "2" });

        var created = await client.CreateTransferAsync(new
        {
            source = new { type = "upload", uploadId = upload.Id },
            destination = new { type = "http", url = _server.Url("/busy"), method = "PUT" },
        });
        var transfer = await client.WaitUntilFinishedAsync(created.Id);

        Assert.Equal("completed", transfer.State);
        var requests = _server.Requests.Where(r => r.Path == "/busy").ToList();
        Assert.Equal([429, 201], requests.Select(r => r.Status));
        // The job's own backoff would be about 1 s; Retry-After asked for 2.
        Assert.True(requests[1].At - requests[0].At >= TimeSpan.FromSeconds(1.9), $"retried after {(requests[1].At - requests[0].At).TotalSeconds:0.00} s");
    }

    [Fact]
    public async Task UploadWhoseStoredBytesNoLongerMatchItsSha256_FailsWithChecksumMismatch_AndDeliversNothing()
    {
        var (client, tenantId) = await app.CreateTenantAsync();
        var content = RandomNumberGenerator.GetBytes(600_000);
        var upload = await client.UploadBytesAsync(content);
        var stored = Assert.Single(app.StoredFiles(), f => f.EndsWith(upload.Id.ToString(), StringComparison.Ordinal));
        await using (var file = new FileStream(stored, FileMode.Open, FileAccess.Write))
        {
            file.Position = 300_000;
            file.WriteByte((byte)(content[300_000] ^ 0xFF)); // one byte flipped on disk, same size
        }
        var path = $"bad-{Guid.NewGuid():N}/report.pdf";

        var toDirectory = await client.CreateTransferAsync(new { source = new { type = "upload", uploadId = upload.Id }, destination = new { type = "directory", path } });
        var toHttp = await client.CreateTransferAsync(new
        {
            source = new { type = "upload", uploadId = upload.Id },
            destination = new { type = "http", url = _server.Url("/corrupt"), method = "PUT" },
        });

        foreach (var id in new[] { toDirectory.Id, toHttp.Id })
        {
            var transfer = await client.WaitUntilFinishedAsync(id);
            Assert.Equal("failed", transfer.State);
            Assert.Contains("Checksum mismatch", transfer.Error);
            Assert.Contains(upload.Sha256, transfer.Error);
            Assert.Single(transfer.Attempts); // not retried
        }
        var directory = Path.Combine(app.TenantDirectory(tenantId), Path.GetDirectoryName(path)!);
        Assert.False(Directory.Exists(directory) && Directory.EnumerateFileSystemEntries(directory).Any());
        Assert.DoesNotContain(_server.Requests, r => r.Path == "/corrupt" && r.Complete);
    }

    [Fact]
    public async Task UrlSourceThatChangesBetweenAttempts_FailsInsteadOfSendingAnotherDocument()
    {
        var client = await app.CreateTenantClientAsync();
        var first = RandomNumberGenerator.GetBytes(100_000);
        _server.Serve("/changing.pdf", first, etag: false);
        _server.Handle("/changing-dest", async http =>
        {
            // The first delivery fails with 503; meanwhile the source is replaced by another document of the same size.
            await http.Request.Body.CopyToAsync(Stream.Null);
            _server.Serve("/changing.pdf", RandomNumberGenerator.GetBytes(100_000), etag: false);
            http.Response.StatusCode = 503;
        });

        var created = await client.CreateTransferAsync(new
        {
            source = new { type = "url", url = _server.Url("/changing.pdf") },
            destination = new { type = "http", url = _server.Url("/changing-dest"), method = "PUT" },
        });
        var transfer = await client.WaitUntilFinishedAsync(created.Id);

        Assert.Equal("failed", transfer.State);
        Assert.Contains("Checksum mismatch", transfer.Error);
        Assert.Contains(Sha256(first), transfer.Error);
        Assert.Equal(2, transfer.Attempts.Count);
        Assert.DoesNotContain(_server.Requests, r => r.Path == "/changing-dest" && r.Status is >= 200 and < 300);
    }

    [Fact]
    public async Task UrlSourceThatDoesNotExist_FailsAtOnce()
    {
        var client = await app.CreateTenantClientAsync();
        _server.Handle("/missing.pdf", http =>
        {
            http.Response.StatusCode = 404;
            return Task.CompletedTask;
        });

        var created = await client.CreateTransferAsync(new
        {
            source = new { type = "url", url = _server.Url("/missing.pdf") },
            destination = new { type = "directory", path = $"missing-{Guid.NewGuid():N}.pdf" },
        });
        var transfer = await client.WaitUntilFinishedAsync(created.Id);

        Assert.Equal("failed", transfer.State);
        Assert.Contains("The source answered 404", transfer.Error);
        Assert.Single(transfer.Attempts);
    }

    [Fact]
    public async Task CancelAndRetry_GoThroughTheJob_AndTheRetriedTransferCompletes()
    {
        var client = await app.CreateTenantClientAsync();
        var content = RandomNumberGenerator.GetBytes(4 * 1024 * 1024);
        var upload = await client.UploadBytesAsync(content);
        _server.BytesPerSecond = 512 * 1024; // about 8 s for the whole body: long enough to cancel it midway
        try
        {
            var created = await client.CreateTransferAsync(new
            {
                source = new { type = "upload", uploadId = upload.Id },
                destination = new { type = "http", url = _server.Url("/slow"), method = "PUT" },
            });
            await ProcessWaitAsync(async () => (await client.GetTransferAsync(created.Id)).BytesMoved > 0);

            using var cancel = await client.PostAsync($"/v1/transfers/{created.Id}/cancel", null);
            Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
            var cancelled = await client.WaitUntilFinishedAsync(created.Id);
            Assert.Equal("cancelled", cancelled.State);

            _server.BytesPerSecond = null;
            using var retry = await client.PostAsync($"/v1/transfers/{created.Id}/retry", null);
            Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
            var done = await client.WaitUntilFinishedAsync(created.Id);
            Assert.Equal("completed", done.State);
            // The cancelled attempt's body may still have arrived whole (the kernel's socket buffers can hold much of
            // it): every body that did is the document, under the one Idempotency-Key the destination dedupes by.
            var accepted = _server.Accepted.Where(r => r.Path == "/slow").ToList();
            Assert.NotEmpty(accepted);
            Assert.All(accepted, r => Assert.Equal(Sha256(content), r.Sha256));
            Assert.All(_server.Requests.Where(r => r.Path == "/slow"), r => Assert.Equal($"transfer-{created.Id}", r.IdempotencyKey));
            Assert.Contains(done.Attempts, a => a.Outcome == "cancelled");

            using var again = await client.PostAsync($"/v1/transfers/{created.Id}/retry", null);
            Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        }
        finally
        {
            _server.BytesPerSecond = null;
        }
    }

    [Fact]
    public async Task List_PagesNewestFirst_WithACursor()
    {
        var client = await app.CreateTenantClientAsync();
        var upload = await client.UploadBytesAsync(RandomNumberGenerator.GetBytes(10));
        var ids = new List<Guid>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add((await client.CreateTransferAsync(new
            {
                source = new { type = "upload", uploadId = upload.Id },
                destination = new { type = "directory", path = $"list-{Guid.NewGuid():N}.bin" },
            })).Id);
        }

        var first = await client.GetFromJsonAsync<TransferPageDto>("/v1/transfers?limit=2", JobClientExtensions.Json);
        var second = await client.GetFromJsonAsync<TransferPageDto>($"/v1/transfers?limit=2&cursor={first!.NextCursor}", JobClientExtensions.Json);

        Assert.Equal([ids[2], ids[1]], first.Items.Select(t => t.Id));
        Assert.Equal([ids[0]], second!.Items.Select(t => t.Id));
        Assert.Null(second.NextCursor);
    }

    private static async Task ProcessWaitAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail("The condition did not hold within 30 s.");
            await Task.Delay(25);
        }
    }
}
