using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Tests.Features.HttpRequests;
using Monolith.Tests.Features.Transfers;
using Monolith.Tests.Features.Webhooks;
using Monolith.Tests.Infrastructure;
using Monolith.Worker.Engine;
using Monolith.Worker.Outbound;

namespace Monolith.Tests.Worker.Outbound;

/// <summary>
/// Outbound calls through a real HTTP CONNECT proxy (tinyproxy on 127.0.0.1, with Basic credentials): vendor calls and
/// transfers go through it as tunnels to the address the service checked; refused addresses are refused before the
/// proxy is asked; wrong credentials fail the job at once; a proxy that is down is retried, then fails; the password
/// is in no log line and no job.
/// </summary>
public sealed class OutboundProxyTests(ProxyFixture fixture) : IClassFixture<ProxyFixture>
{
    private static Task<LoopbackServer> VendorAsync() =>
        LoopbackServer.StartAsync((context, _) => context.Response.WriteAsJsonAsync(new { verified = true }));

    private static string Connect(LoopbackServer vendor) => $"CONNECT 127.0.0.1:{vendor.Port} HTTP/1.1";

    [Fact]
    public async Task VendorCall_GoesThroughTheProxy_AsATunnelToTheCheckedAddress_NotToTheName()
    {
        await using var vendor = await VendorAsync();
        var client = await fixture.App.CreateTenantClientAsync();
        var url = vendor.Url("/v2/verify?case=7").Replace("127.0.0.1", "localhost");

        var job = await client.SubmitJobAsync("http_request", new
        {
            method = "POST", url, headers = new Dictionary<string, string> { ["X-Api-Key"] = "vendor-key-31" },
            body = new { ssn = "078-05-1120" }, sensitive = new[] { "ssn" },
        });
        await client.WaitForStateAsync(job.Id, "succeeded");

        var received = Assert.Single(vendor.Requests);
        Assert.Equal("/v2/verify?case=7", received.Path);
        Assert.Equal($"localhost:{vendor.Port}", received.Headers["Host"]); // the request names the host; the tunnel, its address
        var asked = fixture.Proxy.Requests.Where(r => r.Contains($":{vendor.Port} ", StringComparison.Ordinal)).ToList();
        Assert.Contains(Connect(vendor), asked);
        Assert.All(asked, r => Assert.Matches(@"^CONNECT (127\.0\.0\.1|\[::1\]):\d+ HTTP/1\.1$", r)); // addresses, never the name
        Assert.DoesNotContain(fixture.Proxy.Requests, r => r.Contains("/v2/verify", StringComparison.Ordinal)); // the proxy sees no request
        Assert.DoesNotContain(ProxyFixture.Password, fixture.App.Logs.All);
    }

    [Fact]
    public async Task TransferToAnHttpDestination_GoesThroughTheProxy()
    {
        await using var destination = await LoopbackServer.StartAsync((context, _) =>
        {
            context.Response.StatusCode = StatusCodes.Status201Created;
            return Task.CompletedTask;
        });
        var client = await fixture.App.CreateTenantClientAsync();
        var text = string.Join('\n', Enumerable.Range(0, 20_000).Select(i => $"line {i} of the letter"));
        var upload = await client.UploadBytesAsync(Encoding.UTF8.GetBytes(text), "letter.txt", "text/plain");

        var created = await client.CreateTransferAsync(new
        {
            source = new { type = "upload", uploadId = upload.Id },
            destination = new { type = "http", url = destination.Url("/inbox/letter.txt"), method = "PUT" },
        });
        var transfer = await client.WaitUntilFinishedAsync(created.Id);

        Assert.Equal("completed", transfer.State);
        var received = Assert.Single(destination.Requests);
        Assert.Equal("PUT /inbox/letter.txt", $"{received.Method} {received.Path}");
        Assert.Equal(text, received.Body);
        Assert.Contains(Connect(destination), fixture.Proxy.Requests);
    }

    [Fact]
    public async Task RefusedTargets_AreRefusedBeforeTheProxyIsAsked()
    {
        await using var proxy = await TinyProxy.StartAsync(ProxyFixture.Username, ProxyFixture.Password);
        await using var vendor = await VendorAsync();
        var settings = new Dictionary<string, string?>
        {
            ["Outbound:Proxy:Address"] = proxy.Address,
            ["Outbound:Proxy:Username"] = ProxyFixture.Username,
            ["Outbound:Proxy:Password"] = ProxyFixture.Password,
        };

        // No exceptions: private, link-local, and a name (localhost) resolving to loopback. The connection itself is
        // refused (this client is what every job calls through; the API and the redirect handler check before it).
        await using (var strict = OutboundServices(settings))
        {
            var http = strict.GetRequiredService<IHttpClientFactory>().CreateClient(OutboundHttp.ClientName);
            foreach (var url in new[] { "http://10.0.0.1/", "http://169.254.169.254/latest/meta-data/", vendor.Url("/").Replace("127.0.0.1", "localhost") })
            {
                var ex = await Assert.ThrowsAnyAsync<HttpRequestException>(() => http.GetAsync(url));
                Assert.True(OutboundHttp.IsRefusedAddress(ex, out var refused), $"{url}: {ex}");
                Assert.Contains("loopback, private, link-local or reserved", refused!.Message);
                Assert.IsType<PermanentJobException>(OutboundFailures.Classify(ex, "The vendor", CancellationToken.None));
            }
        }
        Assert.Empty(proxy.Requests);
        Assert.Empty(vendor.Requests);

        // The same proxy, asked for an allowed target, shows it: the empty log above is not a log that records nothing.
        await using (var allowing = OutboundServices(new(settings) { ["Transfers:AllowedHosts:0"] = "127.0.0.1" }))
        {
            var http = allowing.GetRequiredService<IHttpClientFactory>().CreateClient(OutboundHttp.ClientName);
            using var response = await http.GetAsync(vendor.Url("/"));
            response.EnsureSuccessStatusCode();
        }
        Assert.Equal([Connect(vendor)], proxy.Requests);
    }

    [Fact]
    public async Task RedirectToAnInternalAddress_IsRefusedAtOnce_WithoutAskingTheProxy()
    {
        await using var vendor = await LoopbackServer.StartAsync((context, _) =>
        {
            context.Response.StatusCode = StatusCodes.Status302Found;
            context.Response.Headers.Location = "http://10.0.0.1/internal";
            return Task.CompletedTask;
        });
        var client = await fixture.App.CreateTenantClientAsync();

        var job = await client.SubmitJobAsync("http_request", new { method = "GET", url = vendor.Url("/start") });
        var failed = await client.WaitForStateAsync(job.Id, "failed");

        Assert.Single(failed.Attempts);
        Assert.Contains("10.0.0.1", failed.LastError);
        Assert.Contains(Connect(vendor), fixture.Proxy.Requests);
        Assert.DoesNotContain(fixture.Proxy.Requests, r => r.Contains("10.0.0.1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task CallToAPrivateAddress_FailsAtOnce_AndTheProxyIsNotAsked()
    {
        var client = await fixture.App.CreateTenantClientAsync();

        var job = await client.SubmitJobAsync("http_request", new { method = "GET", url = "http://10.0.0.1:8443/admin" }, new { maxAttempts = 3 });
        var failed = await client.WaitForStateAsync(job.Id, "failed");

        Assert.Single(failed.Attempts);
        Assert.Contains("'10.0.0.1' is a loopback, private, link-local or reserved address", failed.LastError);
        Assert.DoesNotContain(fixture.Proxy.Requests, r => r.Contains("10.0.0.1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WrongProxyCredentials_FailTheJobAtOnce_SayingSo_WithoutThePassword()
    {
        const string wrong = "not-the-proxy-pass-55d0";
        await using var vendor = await VendorAsync();
        await using var app = new ProxiedFactory(fixture.Proxy.Address, ProxyFixture.Username, wrong);
        await app.InitializeAsync();
        var client = await app.CreateTenantClientAsync();

        var job = await client.SubmitJobAsync("http_request", new { method = "GET", url = vendor.Url("/check") }, new { maxAttempts = 3, backoffSeconds = 0.05 });
        var failed = await client.WaitForStateAsync(job.Id, "failed");

        Assert.Single(failed.Attempts); // not retried: the same proxy would refuse the same credentials
        // tinyproxy answers wrong credentials with 401 (squid with 407): both are the proxy refusing them.
        Assert.Equal($"The vendor: The outbound proxy 127.0.0.1:{fixture.Proxy.Port} refused the credentials (401): check " +
                     "Outbound:Proxy:Username and Outbound:Proxy:Password.", failed.LastError);
        Assert.Contains(Connect(vendor), fixture.Proxy.Requests); // asked, and refused
        Assert.Empty(vendor.Requests);
        Assert.DoesNotContain(wrong, app.Logs.All);
        Assert.DoesNotContain(wrong, await client.GetStringAsync($"/v1/jobs/{job.Id}"));
    }

    [Fact]
    public async Task ProxyAskingForCredentials_WhenNoneAreSet_FailsAtOnce_SayingWhichSettings()
    {
        await using var vendor = await VendorAsync();
        await using var services = OutboundServices(new() { ["Outbound:Proxy:Address"] = fixture.Proxy.Address, ["Transfers:AllowedHosts:0"] = "127.0.0.1" });
        var http = services.GetRequiredService<IHttpClientFactory>().CreateClient(OutboundHttp.ClientName);

        var ex = await Assert.ThrowsAnyAsync<HttpRequestException>(() => http.GetAsync(vendor.Url("/check")));

        var verdict = Assert.IsType<PermanentJobException>(OutboundFailures.Classify(ex, "The vendor", CancellationToken.None));
        Assert.Equal($"The vendor: The outbound proxy 127.0.0.1:{fixture.Proxy.Port} asks for credentials (407): set " +
                     "Outbound:Proxy:Username and Outbound:Proxy:Password.", verdict.Message);
        Assert.Empty(vendor.Requests);
    }

    [Fact]
    public async Task ProxyThatIsDown_IsRetried_ThenFailsTheJob_NamingTheProxy()
    {
        var down = TinyProxy.FreePort(); // nothing listens there: the proxy is down
        await using var vendor = await VendorAsync();
        await using var app = new ProxiedFactory($"http://127.0.0.1:{down}", ProxyFixture.Username, ProxyFixture.Password);
        await app.InitializeAsync();
        var client = await app.CreateTenantClientAsync();

        var job = await client.SubmitJobAsync("http_request", new { method = "GET", url = vendor.Url("/check") }, new { maxAttempts = 3, backoffSeconds = 0.05 });
        var failed = await client.WaitForStateAsync(job.Id, "failed");

        Assert.Equal(3, failed.Attempts.Count);
        Assert.All(failed.Attempts, a => Assert.Contains($"The vendor: The outbound proxy 127.0.0.1:{down} could not be reached: Connection refused", a.Error));
        Assert.Empty(vendor.Requests);
        Assert.DoesNotContain(ProxyFixture.Password, app.Logs.All);
    }

    /// <summary>The outbound client alone, as <see cref="OutboundHttp.AddOutboundHttp"/> registers it, on these settings.</summary>
    private static ServiceProvider OutboundServices(Dictionary<string, string?> settings)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        services.AddOutboundHttp();
        return services.BuildServiceProvider();
    }
}
