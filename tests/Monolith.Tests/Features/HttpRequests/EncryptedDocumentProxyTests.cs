using System.Security.Cryptography;
using System.Text.Json;
using Monolith.Tests.Features.Transfers;
using Monolith.Tests.Infrastructure;
using Monolith.Tests.Storage;
using Monolith.Tests.Worker.Outbound;

namespace Monolith.Tests.Features.HttpRequests;

/// <summary>
/// The encrypted-document flow end to end, as in production: the store is S3 (an <see cref="S3rver"/> on 127.0.0.1),
/// the browser encrypts (<see cref="BrowserEncryption"/>) and PUTs the cipher text to a pre-signed URL, and the vendor
/// on 127.0.0.1 is called through a real outbound proxy (tinyproxy, with Basic authentication). The vendor gets the
/// plain bytes through the tunnel; the key and IV are in no row (<c>pg_dump</c>), no log line and no API answer.
/// </summary>
public sealed class EncryptedDocumentProxyTests(ProxyOnS3Fixture proxied) : IClassFixture<ProxyOnS3Fixture>
{
    [Fact]
    public async Task PresignedOnS3_ThroughTheProxy_TheVendorGetsThePlainBytes_AndTheKeyIsNowhere()
    {
        await using var vendor = await LoopbackServer.StartAsync();
        var client = await proxied.App.CreateTenantClientAsync();
        var scan = BrowserEncryption.OfRandom(200_003);
        var upload = await scan.UploadPresignedAsync(client);

        var job = await client.SubmitJobAsync("http_request", new
        {
            method = "POST",
            url = vendor.Url("/scan"),
            documents = new[] { scan.Document(upload, "multipart", "image", "front.jpg", "image/jpeg") },
        });
        var waited = await client.GetStringAsync($"/v1/jobs/{job.Id}?wait=30");
        var done = await client.WaitForStateAsync(job.Id, "succeeded");

        var file = Assert.Single(vendor.Requests).File!;
        Assert.Equal(scan.Plain.Length, file.Length);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(scan.Plain)), file.Sha256); // byte for byte
        Assert.Contains($"CONNECT 127.0.0.1:{vendor.Port} HTTP/1.1", proxied.Proxy.Requests);
        Assert.DoesNotContain(proxied.Proxy.Requests, r => r.Contains(new Uri(proxied.Server.Url).Authority)); // the store is reached directly

        var dump = await EncryptedDocumentsFactory.DumpAsync(proxied.App.DatabaseUrl);
        Assert.Contains(job.Id.ToString(), dump); // the dump does hold the job's row
        Assert.Contains(upload.ToString(), dump); // and the upload's
        var logs = proxied.App.Logs.All;
        Assert.Contains(job.Id.ToString(), logs); // the capture did see this job's lines
        var answers = new Dictionary<string, string>
        {
            ["GET job"] = JsonSerializer.Serialize(done, JobClientExtensions.Json) + await client.GetStringAsync($"/v1/jobs/{job.Id}"),
            ["GET job ?wait="] = waited,
            ["list jobs"] = await client.GetStringAsync("/v1/jobs?type=http_request"),
            ["events"] = string.Join('\n', (await client.ReadJobEventsAsync(job.Id, TimeSpan.FromSeconds(30))).Select(e => $"{e.Name} {e.Data}")),
            ["GET upload"] = await client.GetStringAsync($"/v1/uploads/{upload}"),
        };
        Assert.Contains("succeeded", answers["events"]);
        foreach (var secret in scan.Secrets)
        {
            Assert.DoesNotContain(secret, dump);
            Assert.DoesNotContain(secret, logs);
            foreach (var (what, answer) in answers) Assert.False(answer.Contains(secret, StringComparison.Ordinal), $"{what} shows the key or IV: {answer}");
        }
        Assert.DoesNotContain(ProxyFixture.Password, logs);
    }

    [Fact]
    public async Task ThroughTheProxy_AWrongKeyOpensNoTunnel()
    {
        await using var vendor = await LoopbackServer.StartAsync();
        var client = await proxied.App.CreateTenantClientAsync();
        var scan = BrowserEncryption.OfRandom(1_000);
        var upload = await scan.UploadAsync(client);
        var wrong = scan with { Iv = RandomNumberGenerator.GetBytes(12) };

        var job = await client.SubmitJobAsync("http_request", new
        {
            method = "POST",
            url = vendor.Url("/scan"),
            documents = new[] { wrong.Document(upload, "multipart", "image") },
        }, new { maxAttempts = 3, backoffSeconds = 0 });
        var failed = await client.WaitForStateAsync(job.Id, "failed");

        Assert.Equal(1, failed.Attempt);
        Assert.Contains("cannot be decrypted", failed.LastError);
        Assert.Empty(vendor.Requests);
        Assert.DoesNotContain(proxied.Proxy.Requests, r => r.Contains($":{vendor.Port} "));
    }
}
