using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Hosting;

/// <summary>A node that lets an address fail to authenticate three times a minute; forwarded headers are off (the default).</summary>
public class AuthThrottleFactory : MonolithFactory
{
    public const int MaxFailures = 3;

    protected override Dictionary<string, string?> Settings => new(base.Settings)
    {
        ["AuthThrottle:MaxFailures"] = MaxFailures.ToString(),
        ["AuthThrottle:WindowSeconds"] = "60",
    };
}

/// <summary>The same node behind a TLS proxy at <see cref="Proxy"/>, whose forwarded headers it trusts.</summary>
public sealed class ProxiedFactory : AuthThrottleFactory
{
    public const string Proxy = "10.20.30.40";

    protected override Dictionary<string, string?> Settings => new(base.Settings)
    {
        ["ForwardedHeaders:Enabled"] = "true",
        ["ForwardedHeaders:KnownProxies:0"] = Proxy,
    };
}

/// <summary>
/// Failed authentications are throttled per client address: bad API keys and wrong dashboard log-ins. Requests reach
/// the in-process server with the client address set on the connection, as Kestrel sets it from the socket; no
/// other address is bound or contacted.
/// </summary>
public sealed class AuthThrottleTests(AuthThrottleFactory app) : IClassFixture<AuthThrottleFactory>
{
    [Fact]
    public async Task RepeatedBadApiKeys_FromOneAddress_Get429WithRetryAfter_WhileAnotherAddressIsUnaffected()
    {
        var tenantKey = await NewTenantKeyAsync(app);
        using var attacker = ClientFrom(app, "192.0.2.10");
        using var neighbour = ClientFrom(app, "192.0.2.11");

        for (var i = 0; i < AuthThrottleFactory.MaxFailures; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await GetJobsAsync(attacker, "mk_guess_" + i)).StatusCode);
        }
        using var throttled = await GetJobsAsync(attacker, "mk_guess_next");
        await AssertThrottledProblemAsync(throttled);
        // While throttled the address learns nothing, not even that a key is right.
        Assert.Equal(HttpStatusCode.TooManyRequests, (await GetJobsAsync(attacker, tenantKey)).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await GetJobsAsync(neighbour, tenantKey)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetJobsAsync(neighbour, "mk_typo")).StatusCode);
    }

    [Fact]
    public async Task RepeatedWrongDashboardLogins_Get429WithAClearMessage_WhileTheAdminLogsInFromAnotherAddress()
    {
        using var attacker = ClientFrom(app, "192.0.2.20");
        using var admin = ClientFrom(app, "192.0.2.21");

        for (var i = 0; i < AuthThrottleFactory.MaxFailures; i++)
        {
            using var wrong = await LogInAsync(attacker, "not-the-key-" + i);
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        }
        using var throttled = await LogInAsync(attacker, "not-the-key-either");
        Assert.Equal(HttpStatusCode.TooManyRequests, throttled.StatusCode);
        Assert.True(throttled.Headers.RetryAfter?.Delta is { TotalSeconds: > 0 and <= 60 }, $"Retry-After: {throttled.Headers.RetryAfter}");
        var page = await throttled.Content.ReadAsStringAsync();
        Assert.Contains("id=\"login-throttled\"", page);
        Assert.Contains("Too many failed log-ins from your address", page);
        using (var rightKeyTooLate = await LogInAsync(attacker, MonolithFactory.AdminKey))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, rightKeyTooLate.StatusCode);
            Assert.DoesNotContain(SetCookies(rightKeyTooLate), c => c.StartsWith("monolith_dashboard=", StringComparison.Ordinal));
        }

        using var login = await LogInAsync(admin, MonolithFactory.AdminKey);
        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        Assert.Contains(SetCookies(login), c => c.StartsWith("monolith_dashboard=", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ForwardedHeaders_WhenNotEnabled_AreIgnored_NeitherEscapingTheThrottleNorFakingHttps()
    {
        var tenantKey = await NewTenantKeyAsync(app);
        using var client = ClientFrom(app, "192.0.2.30");

        for (var i = 0; i < AuthThrottleFactory.MaxFailures; i++)
        {
            using var bad = await GetJobsAsync(client, "mk_guess_" + i, forwardedFor: $"198.51.100.{i + 1}");
            Assert.Equal(HttpStatusCode.Unauthorized, bad.StatusCode);
        }
        using var spoofed = await GetJobsAsync(client, tenantKey, forwardedFor: "198.51.100.99");
        Assert.Equal(HttpStatusCode.TooManyRequests, spoofed.StatusCode);

        using var viaFakeProxy = ClientFrom(app, "192.0.2.31");
        using var login = await LogInAsync(viaFakeProxy, MonolithFactory.AdminKey, forwardedProto: "https");
        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        var cookie = SetCookies(login).Single(c => c.StartsWith("monolith_dashboard=", StringComparison.Ordinal));
        Assert.DoesNotContain("secure", cookie, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>A client whose requests come from <paramref name="address"/>; redirects and cookies are left to the test.</summary>
    internal static HttpClient ClientFrom(MonolithFactory app, string address)
    {
        var ip = IPAddress.Parse(address);
        return new HttpClient(app.Server.CreateHandler(context => context.Connection.RemoteIpAddress = ip))
        {
            BaseAddress = app.Server.BaseAddress,
        };
    }

    internal static async Task<string> NewTenantKeyAsync(MonolithFactory app)
    {
        using var admin = app.CreateAdminClient();
        var created = await admin.PostJsonAsync<MonolithFactory.CreatedTenant>("/v1/admin/tenants", new { name = "throttle-" + Guid.NewGuid().ToString("N")[..8] });
        return created.ApiKey.Key;
    }

    internal static async Task<HttpResponseMessage> GetJobsAsync(HttpClient client, string key, string? forwardedFor = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/jobs");
        request.Headers.Add("X-Api-Key", key);
        if (forwardedFor is not null) request.Headers.Add("X-Forwarded-For", forwardedFor);
        return await client.SendAsync(request);
    }

    internal static async Task AssertThrottledProblemAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.True(response.Headers.RetryAfter?.Delta is { TotalSeconds: > 0 and <= 60 }, $"Retry-After: {response.Headers.RetryAfter}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(429, problem.GetProperty("status").GetInt32());
    }

    /// <summary>
    /// Posts the login form as a browser would: the form's antiforgery cookie and token first (a GET), then the key;
    /// the answer is returned as it came (no redirect followed).
    /// </summary>
    internal static async Task<HttpResponseMessage> LogInAsync(HttpClient client, string key, string? forwardedProto = null, string? forwardedFor = null)
    {
        using var get = new HttpRequestMessage(HttpMethod.Get, "/dashboard/login");
        AddForwarded(get, forwardedProto, forwardedFor);
        using var form = await client.SendAsync(get);
        Assert.Equal(HttpStatusCode.OK, form.StatusCode);
        var token = Regex.Match(await form.Content.ReadAsStringAsync(), "name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"").Groups[1].Value;
        var cookies = string.Join("; ", SetCookies(form).Select(c => c.Split(';')[0]));

        var post = new HttpRequestMessage(HttpMethod.Post, "/dashboard/login")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["key"] = key, ["__RequestVerificationToken"] = token }),
        };
        post.Headers.Add("Cookie", cookies);
        AddForwarded(post, forwardedProto, forwardedFor);
        return await client.SendAsync(post);
    }

    internal static IEnumerable<string> SetCookies(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Set-Cookie", out var values) ? values : [];

    private static void AddForwarded(HttpRequestMessage request, string? proto, string? forwardedFor)
    {
        if (proto is not null) request.Headers.Add("X-Forwarded-Proto", proto);
        if (forwardedFor is not null) request.Headers.Add("X-Forwarded-For", forwardedFor);
    }
}

/// <summary>
/// Behind a trusted proxy (<c>ForwardedHeaders:Enabled</c> with its address in <c>KnownProxies</c>) the forwarded
/// scheme and client address count: the dashboard cookie is <c>Secure</c> and the throttle keys by the real client.
/// From any other address the headers are ignored.
/// </summary>
public sealed class ForwardedHeadersTests(ProxiedFactory app) : IClassFixture<ProxiedFactory>
{
    [Fact]
    public async Task BehindTheTrustedProxy_ForwardedHttps_MakesTheDashboardCookieSecure()
    {
        using var proxy = AuthThrottleTests.ClientFrom(app, ProxiedFactory.Proxy);

        using var login = await AuthThrottleTests.LogInAsync(proxy, MonolithFactory.AdminKey, forwardedProto: "https", forwardedFor: "203.0.113.5");

        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        var cookie = AuthThrottleTests.SetCookies(login).Single(c => c.StartsWith("monolith_dashboard=", StringComparison.Ordinal));
        Assert.Contains("secure", cookie.Split(';').Select(p => p.Trim().ToLowerInvariant()));
        Assert.Contains("httponly", cookie.Split(';').Select(p => p.Trim().ToLowerInvariant()));
    }

    [Fact]
    public async Task FromAnAddressThatIsNotTheProxy_ForwardedHttpsIsIgnored()
    {
        using var direct = AuthThrottleTests.ClientFrom(app, "192.0.2.50");

        using var login = await AuthThrottleTests.LogInAsync(direct, MonolithFactory.AdminKey, forwardedProto: "https");

        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        var cookie = AuthThrottleTests.SetCookies(login).Single(c => c.StartsWith("monolith_dashboard=", StringComparison.Ordinal));
        Assert.DoesNotContain("secure", cookie.Split(';').Select(p => p.Trim().ToLowerInvariant()));
    }

    [Fact]
    public async Task BehindTheTrustedProxy_TheThrottleKeysByTheForwardedClientAddress()
    {
        var tenantKey = await AuthThrottleTests.NewTenantKeyAsync(app);
        using var proxy = AuthThrottleTests.ClientFrom(app, ProxiedFactory.Proxy);

        for (var i = 0; i < AuthThrottleFactory.MaxFailures; i++)
        {
            using var bad = await AuthThrottleTests.GetJobsAsync(proxy, "mk_guess_" + i, forwardedFor: "203.0.113.7");
            Assert.Equal(HttpStatusCode.Unauthorized, bad.StatusCode);
        }
        using var throttled = await AuthThrottleTests.GetJobsAsync(proxy, "mk_guess_next", forwardedFor: "203.0.113.7");
        await AuthThrottleTests.AssertThrottledProblemAsync(throttled);

        // Another client behind the same proxy is not held back by the first one's failures.
        using var other = await AuthThrottleTests.GetJobsAsync(proxy, tenantKey, forwardedFor: "203.0.113.8");
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
    }
}
