using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Features.HttpRequests;

/// <summary>
/// Redirects answered to an <c>http_request</c>, with two real vendors on 127.0.0.1 (two ports: two origins). The
/// headers a tenant gives (API keys, cookies, Authorization) go to the origin it named and to redirects on that origin,
/// never to another origin a server redirects to; a body is sent again only on a same-origin 307/308.
/// </summary>
public sealed class OutboundRedirectTests(HttpRequestsFactory app) : IClassFixture<HttpRequestsFactory>
{
    private static readonly Dictionary<string, string> TenantHeaders = new()
    {
        ["X-Api-Key"] = "vendor-key-5e1b",
        ["Cookie"] = "session=vendor-session-77aa",
        ["Authorization"] = "Bearer vendor-token-90c2",
        ["X-Client"] = "monolith-test",
    };

    private static Task<LoopbackServer> RedirectingVendorAsync(int status, Func<string> location) =>
        LoopbackServer.StartAsync((context, _) =>
        {
            if (context.Request.Path == "/start")
            {
                context.Response.StatusCode = status;
                context.Response.Headers.Location = location();
                return Task.CompletedTask;
            }
            return context.Response.WriteAsJsonAsync(new { at = "first vendor", path = context.Request.Path.Value });
        });

    private static Task<LoopbackServer> LandingVendorAsync() =>
        LoopbackServer.StartAsync((context, _) => context.Response.WriteAsJsonAsync(new { at = "second vendor" }));

    [Theory]
    [InlineData(301)]
    [InlineData(302)]
    [InlineData(303)]
    [InlineData(307)]
    [InlineData(308)]
    public async Task RedirectToAnotherOrigin_CarriesNoneOfTheTenantsHeaders(int status)
    {
        await using var landing = await LandingVendorAsync();
        await using var first = await RedirectingVendorAsync(status, () => landing.Url("/landing?case=42"));
        var client = await app.CreateTenantClientAsync();

        var job = await client.SubmitJobAsync("http_request", new { method = "GET", url = first.Url("/start"), headers = TenantHeaders });
        var done = await client.WaitForStateAsync(job.Id, "succeeded");

        var asked = Assert.Single(first.Requests);
        foreach (var (name, value) in TenantHeaders) Assert.Equal(value, asked.Headers[name]);
        var redirected = Assert.Single(landing.Requests);
        Assert.Equal("/landing?case=42", redirected.Path);
        foreach (var name in TenantHeaders.Keys) Assert.False(redirected.Headers.ContainsKey(name), $"{name} reached the other origin");
        foreach (var value in TenantHeaders.Values)
        {
            Assert.DoesNotContain(redirected.Headers.Values, v => v.Contains(value.Split('=', ' ')[^1], StringComparison.Ordinal));
        }
        Assert.Equal("second vendor", JsonDocument.Parse(done.Result!.Value.GetProperty("body").GetString()!).RootElement.GetProperty("at").GetString());
    }

    [Theory]
    [InlineData(302, "/landing")]
    [InlineData(308, "/landing")]
    [InlineData(302, "ABSOLUTE")] // the same origin written out in full
    public async Task RedirectOnTheSameOrigin_KeepsTheTenantsHeaders(int status, string location)
    {
        LoopbackServer? self = null;
        await using var vendor = await RedirectingVendorAsync(status, () => location == "ABSOLUTE" ? self!.Url("/landing") : location);
        self = vendor;
        var client = await app.CreateTenantClientAsync();

        var job = await client.SubmitJobAsync("http_request", new { method = "GET", url = vendor.Url("/start"), headers = TenantHeaders });
        await client.WaitForStateAsync(job.Id, "succeeded");

        Assert.Equal(["/start", "/landing"], vendor.Requests.Select(r => r.Path));
        foreach (var (name, value) in TenantHeaders) Assert.Equal(value, vendor.Requests[1].Headers[name]);
    }

    [Fact]
    public async Task SameOrigin307_SendsTheMethodAndBodyAgain_And303_TurnsItIntoAGetWithoutBody()
    {
        await using var vendor = await LoopbackServer.StartAsync((context, _) =>
        {
            switch (context.Request.Path.Value)
            {
                case "/temporary":
                    context.Response.StatusCode = 307;
                    context.Response.Headers.Location = "/kept";
                    return Task.CompletedTask;
                case "/see-other":
                    context.Response.StatusCode = 303;
                    context.Response.Headers.Location = "/kept";
                    return Task.CompletedTask;
                default:
                    return context.Response.WriteAsJsonAsync(new { ok = true });
            }
        });
        var client = await app.CreateTenantClientAsync();

        var kept = await client.SubmitJobAsync("http_request",
            new { method = "POST", url = vendor.Url("/temporary"), headers = TenantHeaders, body = new { name = "Ada" } });
        await client.WaitForStateAsync(kept.Id, "succeeded");
        var seeOther = await client.SubmitJobAsync("http_request",
            new { method = "POST", url = vendor.Url("/see-other"), headers = TenantHeaders, body = new { name = "Ada" } });
        await client.WaitForStateAsync(seeOther.Id, "succeeded");

        var requests = vendor.Requests.ToList();
        Assert.Equal(["POST /temporary", "POST /kept", "POST /see-other", "GET /kept"], requests.Select(r => $"{r.Method} {r.Path}"));
        Assert.Equal("Ada", JsonDocument.Parse(requests[1].Body).RootElement.GetProperty("name").GetString());
        Assert.Equal(TenantHeaders["X-Api-Key"], requests[1].Headers["X-Api-Key"]);
        Assert.Equal("", requests[3].Body);
        Assert.Equal(TenantHeaders["X-Api-Key"], requests[3].Headers["X-Api-Key"]);
    }

    [Theory]
    [InlineData(307)]
    [InlineData(308)]
    public async Task RedirectToAnotherOrigin_KeepingTheBody_IsNotFollowed_AndFailsAtOnce(int status)
    {
        await using var landing = await LandingVendorAsync();
        await using var first = await RedirectingVendorAsync(status, () => landing.Url("/landing"));
        var client = await app.CreateTenantClientAsync();

        var job = await client.SubmitJobAsync("http_request",
            new { method = "POST", url = first.Url("/start"), headers = TenantHeaders, body = new { ssn = "078-05-1120" }, sensitive = new[] { "ssn" } });
        var failed = await client.WaitForStateAsync(job.Id, "failed");

        Assert.Empty(landing.Requests);
        Assert.Single(failed.Attempts); // a redirect refused is not retried
        Assert.Contains("another origin", failed.LastError);
        Assert.Contains(new Uri(landing.BaseUrl).GetLeftPart(UriPartial.Authority), failed.LastError);
    }

    [Fact]
    public async Task RedirectToAnInternalAddress_IsRefusedAtOnce()
    {
        await using var first = await RedirectingVendorAsync(302, () => "http://169.254.169.254/latest/meta-data/");
        var client = await app.CreateTenantClientAsync();

        var job = await client.SubmitJobAsync("http_request", new { method = "GET", url = first.Url("/start"), headers = TenantHeaders });
        var failed = await client.WaitForStateAsync(job.Id, "failed");

        Assert.Single(failed.Attempts);
        Assert.Contains("169.254.169.254", failed.LastError);
        Assert.Contains("link-local", failed.LastError);
    }

    [Fact]
    public async Task EndlessRedirects_FailAtOnce_NamingTheLimit()
    {
        await using var vendor = await LoopbackServer.StartAsync((context, n) =>
        {
            context.Response.StatusCode = 302;
            context.Response.Headers.Location = $"/hop-{n}";
            return Task.CompletedTask;
        });
        var client = await app.CreateTenantClientAsync();

        var job = await client.SubmitJobAsync("http_request", new { method = "GET", url = vendor.Url("/start") });
        var failed = await client.WaitForStateAsync(job.Id, "failed");

        Assert.Single(failed.Attempts);
        Assert.Contains("more than 5 redirects", failed.LastError);
        Assert.Equal(6, vendor.Requests.Count); // the request and 5 redirects followed, no more
    }

    [Fact]
    public async Task CookiesAVendorSets_AreNotSentWithAnotherCall_OfAnotherTenant()
    {
        await using var vendor = await LoopbackServer.StartAsync((context, n) =>
        {
            if (n == 1) context.Response.Headers.SetCookie = "vendor_session=tenant-a-session-31f9; Path=/";
            return context.Response.WriteAsJsonAsync(new { call = n });
        });
        var tenantA = await app.CreateTenantClientAsync();
        var tenantB = await app.CreateTenantClientAsync();

        var first = await tenantA.SubmitJobAsync("http_request", new { method = "GET", url = vendor.Url("/me") });
        await tenantA.WaitForStateAsync(first.Id, "succeeded");
        var second = await tenantB.SubmitJobAsync("http_request", new { method = "GET", url = vendor.Url("/me") });
        await tenantB.WaitForStateAsync(second.Id, "succeeded");

        Assert.Equal(2, vendor.Requests.Count);
        Assert.False(vendor.Requests[1].Headers.ContainsKey("Cookie"), $"tenant B's call carried: {vendor.Requests[1].Headers.GetValueOrDefault("Cookie")}");
    }
}
