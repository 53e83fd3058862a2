using Microsoft.AspNetCore.Http;
using Monolith.Tests.Features.HttpRequests;
using Monolith.Tests.Infrastructure;
using Monolith.Tests.Worker.Outbound;
using Xunit.Abstractions;

namespace Monolith.Tests.Processes;

/// <summary>
/// The proxy variables of the environment never apply to outbound calls: a service process started with
/// <c>HTTP_PROXY</c>, <c>HTTPS_PROXY</c> and <c>ALL_PROXY</c> (both cases) naming a live proxy, and no
/// <c>Outbound:Proxy</c>, calls the vendor directly; the proxy is asked nothing. (.NET's default handler would
/// send the call to that proxy: a plain-http target as an absolute-form GET, which the proxy's log would show.)
/// </summary>
[Collection("Processes")]
public sealed class OutboundProxyEnvironmentTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ProxyVariablesInTheEnvironment_RouteNothing_WhenNoProxyIsConfigured()
    {
        await using var proxy = await TinyProxy.StartAsync(); // no credentials: it would forward whatever it is sent
        await using var vendor = await LoopbackServer.StartAsync((context, _) => context.Response.WriteAsJsonAsync(new { verified = true }));
        var environment = new Dictionary<string, string>();
        foreach (var name in new[] { "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY" })
        {
            environment[name] = proxy.Address;
            environment[name.ToLowerInvariant()] = proxy.Address;
        }
        environment["NO_PROXY"] = environment["no_proxy"] = "";
        await using var group = await ProcessGroup.CreateAsync("env-proxy");
        var node = (await group.StartAsync(new NodeSpec("all", "env-proxy-1", environment)))[0];
        await output.WithLogsOnFailureAsync(group, async () =>
        {
            using var admin = node.CreateClient();
            var tenant = await admin.PostJsonAsync<MonolithFactory.CreatedTenant>("/v1/admin/tenants", new { name = "env-proxy" });
            using var client = node.CreateClient(tenant.ApiKey.Key);

            var job = await client.SubmitJobAsync("http_request", new { method = "GET", url = vendor.Url("/direct") });
            await client.WaitForStateAsync(job.Id, "succeeded");

            Assert.Equal("/direct", Assert.Single(vendor.Requests).Path);
            Assert.Empty(proxy.Requests);
        });
    }
}
