using System.Text.Json;
using Monolith.Domain.Secrets;
using Microsoft.Extensions.Options;
using Microsoft.AspNetCore.Http;
using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Features.HttpRequests;

/// <summary>
/// Keys can be rotated: a job stored while only key k1 existed still runs after k2 is added and made current, and
/// what is written from then on is under k2.
/// </summary>
public sealed class KeyRotationTests
{
    private const string K1 = "azEta2V5LWsxLWtleS1rMS1rZXktazEta2V5LWsxISE=";
    private const string K2 = "azIta2V5LWsyLWtleS1rMi1rZXktazIta2V5LWsyISE=";

    /// <summary>A node with the given keys, on a cluster name shared by the two nodes of the test.</summary>
    private sealed class KeyedFactory(string serviceType, string cluster, Dictionary<string, string> keys, string current) : HttpRequestsFactory
    {
        protected override Dictionary<string, string?> Settings
        {
            get
            {
                var settings = base.Settings;
                settings.Remove($"Secrets:Keys:{SecretKeyId}");
                foreach (var (id, key) in keys) settings[$"Secrets:Keys:{id}"] = key;
                settings["Secrets:CurrentKeyId"] = current;
                settings["SERVICE_TYPE"] = serviceType;
                settings["Worker:ClusterName"] = cluster;
                return settings;
            }
        }
    }

    [Fact]
    public void SecretProtector_ReadsOldKeysValues_AfterANewKeyIsMadeCurrent()
    {
        var before = new SecretProtector(Options.Create(new SecretOptions { Keys = { ["k1"] = K1 } }));
        var after = new SecretProtector(Options.Create(new SecretOptions { Keys = { ["k1"] = K1, ["k2"] = K2 }, CurrentKeyId = "k2" }));
        var old = before.Protect("078-05-1120", "p");

        Assert.StartsWith("enc:v1:k1:", old);
        Assert.Equal("078-05-1120", after.Unprotect(old, "p"));
        Assert.StartsWith("enc:v1:k2:", after.Protect("x", "p"));
        Assert.Throws<SecretUnreadableException>(() => after.Unprotect(old, "another purpose"));
    }

    [Fact]
    public async Task HttpRequest_StoredUnderKeyK1_RunsAfterK2IsMadeCurrent()
    {
        await using var vendor = await LoopbackServer.StartAsync(async (context, _) => await context.Response.WriteAsync("verified"));
        var cluster = "rotation-" + Guid.NewGuid().ToString("N");

        // An api node (it runs nothing) that knows only k1 stores the job.
        Guid jobId;
        string databaseUrl;
        string apiKey;
        await using (var before = new KeyedFactory("api", cluster, new() { ["k1"] = K1 }, "k1"))
        {
            await ((IAsyncLifetime)before).InitializeAsync();
            databaseUrl = before.DatabaseUrl;
            var client = await before.CreateTenantClientAsync();
            apiKey = client.DefaultRequestHeaders.GetValues("X-Api-Key").Single();
            var job = await client.SubmitJobAsync("http_request", new
            {
                method = "POST",
                url = vendor.Url("/check"),
                headers = new Dictionary<string, string> { ["Authorization"] = "Bearer rotated-token" },
                body = new { ssn = "078-05-1120" },
                sensitive = new[] { "ssn" },
            });
            jobId = job.Id;
            var payload = (await before.ReadColumnAsync(jobId, "payload"))!;
            Assert.Contains("enc:v1:k1:", payload);
            Assert.DoesNotContain("rotated-token", payload);
            Assert.Empty(vendor.Requests);
        }

        // The key is rotated: a node with k1 and k2, k2 current, runs it.
        await using var after = new KeyedFactory("all", cluster, new() { ["k1"] = K1, ["k2"] = K2 }, "k2");
        after.OnDatabase(databaseUrl);
        await ((IAsyncLifetime)after).InitializeAsync();
        using var tenant = after.CreateClient();
        tenant.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        var done = await tenant.WaitForStateAsync(jobId, "succeeded");

        var received = Assert.Single(vendor.Requests);
        Assert.Equal("Bearer rotated-token", received.Headers["Authorization"]);
        Assert.Equal("078-05-1120", JsonDocument.Parse(received.Body).RootElement.GetProperty("ssn").GetString());
        Assert.Equal("verified", done.Result!.Value.GetProperty("body").GetString());
        Assert.StartsWith("\"enc:v1:k2:", await after.ReadColumnAsync(jobId, "result")); // new values under the new key
    }
}
