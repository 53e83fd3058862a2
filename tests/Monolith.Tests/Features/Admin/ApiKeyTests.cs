using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Features.Admin;

public sealed class ApiKeyTests(MonolithFactory app) : IClassFixture<MonolithFactory>
{
    [Theory]
    [InlineData(null)]
    [InlineData("mk_wrong")]
    public async Task MissingOrWrongKey_Is401Problem(string? key)
    {
        using var client = app.CreateClient();
        if (key is not null) client.DefaultRequestHeaders.Add("X-Api-Key", key);

        using var response = await client.GetAsync("/v1/jobs");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task TenantKey_CannotUseAdminApi()
    {
        var tenant = await app.CreateTenantClientAsync();

        using var response = await tenant.PostAsJsonAsync("/v1/admin/tenants", new { name = "sneaky" });

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task RevokedKey_StopsWorkingAtOnce()
    {
        using var admin = app.CreateAdminClient();
        var created = await admin.PostJsonAsync<JsonElement>("/v1/admin/tenants", new { name = "revoke-me" });
        var key = created.GetProperty("apiKey");
        using var tenant = app.CreateClient();
        tenant.DefaultRequestHeaders.Add("X-Api-Key", key.GetProperty("key").GetString());
        Assert.Equal(HttpStatusCode.OK, (await tenant.GetAsync("/v1/jobs")).StatusCode);

        using var revoke = await admin.DeleteAsync($"/v1/admin/keys/{key.GetProperty("id").GetGuid()}");

        Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await tenant.GetAsync("/v1/jobs")).StatusCode);
    }

    [Fact]
    public async Task Keys_AreStoredOnlyAsHashes()
    {
        using var admin = app.CreateAdminClient();
        var created = await admin.PostJsonAsync<JsonElement>("/v1/admin/tenants", new { name = "hashed" });
        var key = created.GetProperty("apiKey").GetProperty("key").GetString()!;

        await using var db = app.CreateDbContext();
        var stored = db.ApiKeys.Single(k => k.Id == created.GetProperty("apiKey").GetProperty("id").GetGuid());

        Assert.NotEqual(key, stored.KeyHash);
        Assert.Equal(Monolith.Domain.Tenants.ApiKey.Hash(key), stored.KeyHash);
    }

    [Fact]
    public async Task CreateTenant_WithoutName_Is400NamingIt()
    {
        using var admin = app.CreateAdminClient();

        using var response = await admin.PostAsJsonAsync("/v1/admin/tenants", new { });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("\"name\"", await response.Content.ReadAsStringAsync());
    }
}
