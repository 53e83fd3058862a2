using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Monolith.Tests.Features.Queues;
using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Features.Transfers;

/// <summary>
/// What a transfer may not do: call internal addresses (the test service allow-lists 127.0.0.1 only), write outside
/// the directory root, or let a header value out of the database, an API answer or a log line.
/// </summary>
public sealed class TransferSafetyTests(TransfersFactory app) : IClassFixture<TransfersFactory>, IAsyncLifetime
{
    private LoopbackServer _server = null!;

    public async Task InitializeAsync() => _server = await LoopbackServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Theory]
    [InlineData("http://10.0.0.1/doc.pdf")]
    [InlineData("http://169.254.169.254/latest/meta-data/")]
    [InlineData("http://[::1]:8080/doc.pdf")]
    [InlineData("http://127.0.0.2:1/doc.pdf")] // loopback, but not the allow-listed address
    [InlineData("http://192.168.1.10/doc.pdf")]
    [InlineData("http://[::ffff:10.0.0.1]/doc.pdf")]
    public async Task InternalAddress_AsSourceOrDestination_IsRefused_NamingTheField(string url)
    {
        var client = await app.CreateTenantClientAsync();

        using var asSource = await client.PostTransferAsync(new
        {
            source = new { type = "url", url },
            destination = new { type = "directory", path = "x.pdf" },
        });
        var sourceErrors = await TransferClientExtensions.ProblemErrorsAsync(asSource);
        Assert.Equal(["source.url"], sourceErrors.Keys);
        Assert.Contains("loopback, private, link-local or reserved", sourceErrors["source.url"][0]);

        using var asDestination = await client.PostTransferAsync(new
        {
            source = new { type = "url", url = _server.Url("/doc.pdf") },
            destination = new { type = "http", url, method = "PUT" },
        });
        var destinationErrors = await TransferClientExtensions.ProblemErrorsAsync(asDestination);
        Assert.Equal(["destination.url"], destinationErrors.Keys);
    }

    [Fact]
    public async Task RedirectToTheMetadataAddress_FailsTheTransferAtOnce_WithoutCallingIt()
    {
        var client = await app.CreateTenantClientAsync();
        _server.Handle("/redirect.pdf", http =>
        {
            http.Response.StatusCode = 302;
            http.Response.Headers.Location = "http://169.254.169.254/latest/meta-data/iam";
            return Task.CompletedTask;
        });

        var created = await client.CreateTransferAsync(new
        {
            source = new { type = "url", url = _server.Url("/redirect.pdf") },
            destination = new { type = "directory", path = $"redirect-{Guid.NewGuid():N}.pdf" },
        });
        var transfer = await client.WaitUntilFinishedAsync(created.Id);

        Assert.Equal("failed", transfer.State);
        Assert.Contains("169.254.169.254", transfer.Error);
        Assert.Contains("link-local", transfer.Error);
        Assert.Single(transfer.Attempts); // refused addresses are not retried
    }

    [Theory]
    [InlineData("../escape.pdf", "'.' or '..'")]
    [InlineData("a/../../escape.pdf", "'.' or '..'")]
    [InlineData("/etc/passwd", "not absolute")]
    [InlineData("a//b.pdf", "empty segments")]
    [InlineData("folder/", "empty segments")]
    public async Task DirectoryPathLeavingTheRoot_IsRefused_NamingDestinationPath(string path, string reason)
    {
        var client = await app.CreateTenantClientAsync();
        var upload = await client.UploadBytesAsync([1, 2, 3]);

        using var response = await client.PostTransferAsync(new { source = new { type = "upload", uploadId = upload.Id }, destination = new { type = "directory", path } });

        var errors = await TransferClientExtensions.ProblemErrorsAsync(response);
        Assert.Equal(["destination.path"], errors.Keys);
        Assert.Contains(reason, errors["destination.path"][0]);
    }

    [Fact]
    public async Task DirectoryPathThroughASymlinkOutOfTheRoot_IsRefused_ButOneStayingInsideIsAllowed()
    {
        var (client, tenantId) = await app.CreateTenantAsync();
        var upload = await client.UploadBytesAsync([1, 2, 3]);
        var outside = Directory.CreateTempSubdirectory("monolith-outside-").FullName;
        var name = Guid.NewGuid().ToString("N");
        var part = Directory.CreateDirectory(app.TenantDirectory(tenantId)).FullName;
        try
        {
            Directory.CreateSymbolicLink(Path.Combine(part, $"out-{name}"), outside);
            Directory.CreateDirectory(Path.Combine(part, $"real-{name}"));
            Directory.CreateSymbolicLink(Path.Combine(part, $"in-{name}"), Path.Combine(part, $"real-{name}"));

            using var escaping = await client.PostTransferAsync(new
            {
                source = new { type = "upload", uploadId = upload.Id },
                destination = new { type = "directory", path = $"out-{name}/stolen.bin" },
            });
            var errors = await TransferClientExtensions.ProblemErrorsAsync(escaping);
            Assert.Equal(["destination.path"], errors.Keys);
            Assert.Contains("outside this tenant's part of the destination root", errors["destination.path"][0]);

            var inside = await client.CreateTransferAsync(new
            {
                source = new { type = "upload", uploadId = upload.Id },
                destination = new { type = "directory", path = $"in-{name}/kept.bin" },
            });
            Assert.Equal("completed", (await client.WaitUntilFinishedAsync(inside.Id)).State);
            Assert.Equal([1, 2, 3], await File.ReadAllBytesAsync(Path.Combine(part, $"real-{name}", "kept.bin")));
            Assert.Empty(Directory.GetFileSystemEntries(outside));
        }
        finally
        {
            Directory.Delete(outside, recursive: true);
        }
    }

    [Fact]
    public async Task BadShapes_AreRefused_NamingEachField()
    {
        var client = await app.CreateTenantClientAsync();

        using var response = await client.PostTransferAsync(new
        {
            source = new { type = "ftp" },
            destination = new { type = "http", url = "not a url", method = "PATCH", headers = new Dictionary<string, string> { ["Host"] = "x" } },
        });
        var errors = await TransferClientExtensions.ProblemErrorsAsync(response);
        Assert.Equal(["destination.headers", "destination.method", "destination.url", "source.type"], errors.Keys.Order());

        using var missingUpload = await client.PostTransferAsync(new
        {
            source = new { type = "upload", uploadId = Guid.NewGuid() },
            destination = new { type = "directory", path = "a.pdf" },
        });
        Assert.Equal(["source.uploadId"], (await TransferClientExtensions.ProblemErrorsAsync(missingUpload)).Keys);

        using var empty = await client.PostTransferAsync(new { });
        Assert.Equal(["destination", "source"], (await TransferClientExtensions.ProblemErrorsAsync(empty)).Keys.Order());
    }

    [Fact]
    public async Task HeaderValues_AreEncryptedAtRest_AndNeverShownOrLogged()
    {
        var client = await app.CreateTenantClientAsync();
        const string sourceSecret = "Bearer source-secret-9d1c7e";
        const string destinationSecret = "Bearer destination-secret-4b2f0a";
        var content = RandomNumberGenerator.GetBytes(50_000);
        _server.Serve("/secret-source.pdf", content, requiredAuthorization: sourceSecret);
        _server.FailNext(503); // one failed attempt too: its error goes through the logs

        var created = await client.CreateTransferAsync(new
        {
            source = new { type = "url", url = _server.Url("/secret-source.pdf"), headers = new Dictionary<string, string> { ["Authorization"] = sourceSecret } },
            destination = new
            {
                type = "http", url = _server.Url("/secret-destination"), method = "PUT",
                headers = new Dictionary<string, string> { ["Authorization"] = destinationSecret, ["X-Api-Token"] = destinationSecret },
            },
        });
        var transfer = await client.WaitUntilFinishedAsync(created.Id);

        Assert.Equal("completed", transfer.State);
        Assert.Equal(destinationSecret, _server.Accepted.Single(r => r.Path == "/secret-destination").Headers["Authorization"]);
        Assert.Equal(["Authorization"], transfer.Source.HeaderNames);
        Assert.Equal(["Authorization", "X-Api-Token"], transfer.Destination.HeaderNames);

        var answers = string.Join('\n',
            await client.GetStringAsync($"/v1/transfers/{created.Id}"),
            await client.GetStringAsync("/v1/transfers"),
            await client.GetStringAsync($"/v1/jobs/{created.JobId}"));
        await using var db = app.CreateDbContext();
        var row = await db.Database.SqlQuery<string>($"SELECT source::text || destination::text AS \"Value\" FROM transfers WHERE id = {created.Id}").SingleAsync();
        foreach (var secret in new[] { sourceSecret, destinationSecret, "source-secret-9d1c7e", "destination-secret-4b2f0a" })
        {
            Assert.DoesNotContain(secret, answers);
            Assert.DoesNotContain(secret, row);
            Assert.DoesNotContain(secret, app.LogText);
        }
        Assert.Contains("enc:v1:test:", row);
        Assert.Contains(created.Id.ToString(), app.LogText); // the logs were captured at all
    }

    [Fact]
    public async Task FormValues_AreEncryptedAtRest_SentInClear_AndShownByNameOnly()
    {
        var client = await app.CreateTenantClientAsync();
        const string token = "form-token-61d0e2";
        const string channel = "form-channel-0af3";
        var upload = await client.UploadBytesAsync(RandomNumberGenerator.GetBytes(2_000));

        var created = await client.CreateTransferAsync(new
        {
            source = new { type = "upload", uploadId = upload.Id },
            destination = new
            {
                type = "http", url = _server.Url("/form-secrets"), method = "POST",
                form = new Dictionary<string, string> { ["apiToken"] = token, ["channel"] = channel },
            },
        });
        var transfer = await client.WaitUntilFinishedAsync(created.Id);

        Assert.Equal("completed", transfer.State);
        var received = Assert.Single(_server.Requests, r => r.Path == "/form-secrets");
        Assert.Equal(token, received.Form["apiToken"]);
        Assert.Equal(channel, received.Form["channel"]);
        Assert.Equal(["apiToken", "channel"], transfer.Destination.FormFields);

        var answers = string.Join('\n',
            await client.GetStringAsync($"/v1/transfers/{created.Id}"),
            await client.GetStringAsync("/v1/transfers"),
            await client.GetStringAsync($"/v1/jobs/{created.JobId}"));
        await using var db = app.CreateDbContext();
        var row = await db.Database.SqlQuery<string>($"SELECT to_jsonb(t)::text AS \"Value\" FROM transfers t WHERE id = {created.Id}").SingleAsync();
        foreach (var secret in new[] { token, channel })
        {
            Assert.DoesNotContain(secret, answers);
            Assert.DoesNotContain(secret, row);
            Assert.DoesNotContain(secret, app.LogText);
        }
        Assert.Contains("apiToken", row);
        Assert.Contains("enc:v1:test:", row);
    }
}
