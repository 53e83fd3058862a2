using System.Security.Cryptography;
using Monolith.Tests.Features.Transfers;
using Monolith.Tests.Infrastructure;
using Monolith.Tests.Worker.Outbound;

namespace Monolith.Tests.Features.HttpRequests;

/// <summary>
/// The encrypted-document flow through a real outbound proxy (tinyproxy on 127.0.0.1, with Basic authentication):
/// the vendor gets the plain bytes through the tunnel, and the key and the proxy's password are in no log line.
/// </summary>
public sealed class EncryptedDocumentProxyTests(ProxyFixture proxied) : IClassFixture<ProxyFixture>
{
    [Fact]
    public async Task ThroughTheProxy_TheVendorGetsThePlainBytes()
    {
        await using var vendor = await LoopbackServer.StartAsync();
        var client = await proxied.App.CreateTenantClientAsync();
        var scan = BrowserEncryption.OfRandom(200_003);
        var upload = await scan.UploadAsync(client);

        var job = await client.SubmitJobAsync("http_request", new
        {
            method = "POST",
            url = vendor.Url("/scan"),
            documents = new[] { scan.Document(upload, "multipart", "image", "front.jpg", "image/jpeg") },
        });
        await client.WaitForStateAsync(job.Id, "succeeded");

        var file = Assert.Single(vendor.Requests).File!;
        Assert.Equal(scan.Plain.Length, file.Length);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(scan.Plain)), file.Sha256);
        Assert.Contains($"CONNECT 127.0.0.1:{vendor.Port} HTTP/1.1", proxied.Proxy.Requests);
        var logs = proxied.App.Logs.All;
        Assert.Contains(job.Id.ToString(), logs);
        Assert.DoesNotContain(scan.KeyBase64, logs);
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
