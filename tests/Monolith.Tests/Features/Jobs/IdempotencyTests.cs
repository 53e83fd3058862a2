using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Monolith.Api.Features.Jobs;
using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Features.Jobs;

public sealed class IdempotencyTests(MonolithFactory app) : IClassFixture<MonolithFactory>
{
    private static HttpRequestMessage Submit(string key, object body) => new(HttpMethod.Post, "/v1/jobs")
    {
        Content = JsonContent.Create(body),
        Headers = { { "Idempotency-Key", key } },
    };

    [Fact]
    public async Task SameKeySameBody_ReturnsTheSameJob_With200()
    {
        var client = await app.CreateTenantClientAsync();
        var key = Guid.NewGuid().ToString();
        var body = new { type = "noop", payload = new { echo = "once" } };

        using var first = await client.SendAsync(Submit(key, body));
        using var second = await client.SendAsync(Submit(key, body));

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        var a = await first.Content.ReadFromJsonAsync<JobDto>(JobClientExtensions.Json);
        var b = await second.Content.ReadFromJsonAsync<JobDto>(JobClientExtensions.Json);
        Assert.Equal(a!.Id, b!.Id);
        await using var db = app.CreateDbContext();
        Assert.Equal(1, db.Jobs.Count(j => j.IdempotencyKey == key));
    }

    [Fact]
    public async Task SameKeyOtherBody_IsConflict()
    {
        var client = await app.CreateTenantClientAsync();
        var key = Guid.NewGuid().ToString();

        using var first = await client.SendAsync(Submit(key, new { type = "noop", payload = new { echo = "a" } }));
        using var second = await client.SendAsync(Submit(key, new { type = "noop", payload = new { echo = "b" } }));

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
        Assert.Equal("application/problem+json", second.Content.Headers.ContentType!.MediaType);
        Assert.Contains("Idempotency-Key", await second.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task SameKeyConcurrently_CreatesOneJob()
    {
        var client = await app.CreateTenantClientAsync();
        var key = Guid.NewGuid().ToString();
        var body = new { type = "noop", payload = new { } };

        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => client.SendAsync(Submit(key, body))));

        Assert.Equal(1, responses.Count(r => r.StatusCode == HttpStatusCode.Accepted));
        Assert.Equal(7, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        var ids = await Task.WhenAll(responses.Select(async r => (await r.Content.ReadFromJsonAsync<JobDto>(JobClientExtensions.Json))!.Id));
        Assert.Single(ids.Distinct());
    }

    [Fact]
    public async Task SameKeyOtherTenant_IsAnotherJob()
    {
        var alice = await app.CreateTenantClientAsync();
        var bob = await app.CreateTenantClientAsync();
        var key = Guid.NewGuid().ToString();
        var body = new { type = "noop", payload = new { } };

        using var first = await alice.SendAsync(Submit(key, body));
        using var second = await bob.SendAsync(Submit(key, body));

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
    }

    [Fact]
    public async Task TooLongKey_Is400NamingTheHeader()
    {
        var client = await app.CreateTenantClientAsync();

        using var response = await client.SendAsync(Submit(new string('k', 201), new { type = "noop", payload = new { } }));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Idempotency-Key", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task StoredRequestHash_IsKeyed_NotAPlainSha256OfTheRequest()
    {
        var client = await app.CreateTenantClientAsync();
        var key = Guid.NewGuid().ToString();
        const string json = """{"type":"noop","payload":{"echo":"secret-ssn-078-05-1120"}}""";

        using var response = await client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/v1/jobs")
        {
            Content = new StringContent(json, Encoding.UTF8, "application/json"),
            Headers = { { "Idempotency-Key", key } },
        });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        await using var db = app.CreateDbContext();
        var stored = await db.Jobs.Where(j => j.IdempotencyKey == key).Select(j => j.RequestHash).SingleAsync();
        Assert.NotNull(stored);
        // Neither the body as sent nor the request as the service reads it can be confirmed by hashing a guess.
        var request = new SubmitJobRequest("noop", JsonDocument.Parse("""{"echo":"secret-ssn-078-05-1120"}""").RootElement);
        Assert.NotEqual(Sha256(json), stored);
        Assert.NotEqual(Sha256(JsonSerializer.Serialize(request)), stored);
    }

    [Fact]
    public async Task Replay_OfAJobWhoseHashWasStoredAsPlainSha256BeforeKeyedHashing_StillAnswersTheSameJob()
    {
        var client = await app.CreateTenantClientAsync();
        var key = Guid.NewGuid().ToString();
        var body = new { type = "noop", payload = new { echo = "from before the upgrade" } };
        using var first = await client.SendAsync(Submit(key, body));
        var created = (await first.Content.ReadFromJsonAsync<JobDto>(JobClientExtensions.Json))!;
        // What the service stored before keyed hashing: SHA-256 of the request as it reads it.
        var request = new SubmitJobRequest("noop", JsonDocument.Parse("""{"echo":"from before the upgrade"}""").RootElement);
        await using (var db = app.CreateDbContext())
        {
            await db.Jobs.Where(j => j.Id == created.Id).ExecuteUpdateAsync(s => s.SetProperty(j => j.RequestHash, Sha256(JsonSerializer.Serialize(request))));
        }

        using var replay = await client.SendAsync(Submit(key, body));
        using var other = await client.SendAsync(Submit(key, new { type = "noop", payload = new { echo = "another" } }));

        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.Equal(created.Id, (await replay.Content.ReadFromJsonAsync<JobDto>(JobClientExtensions.Json))!.Id);
        Assert.Equal(HttpStatusCode.Conflict, other.StatusCode);
    }

    private static string Sha256(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    /// <summary>A node whose secret keys were rotated: a new key "next" is current, the old "test" key still listed.</summary>
    private sealed class RotatedKeysFactory : MonolithFactory
    {
        protected override Dictionary<string, string?> Settings => new(base.Settings)
        {
            ["SERVICE_TYPE"] = "api",
            ["Secrets:Keys:next"] = "bmV4dC1rZXktbmV4dC1rZXktbmV4dC1rZXktbmV4dCE=",
            ["Secrets:CurrentKeyId"] = "next",
        };
    }

    [Fact]
    public async Task Replay_StillAnswersTheSameJob_AfterANewSecretKeyIsMadeCurrent_AndAnotherBodyIsStillAConflict()
    {
        var client = await app.CreateTenantClientAsync();
        var apiKey = client.DefaultRequestHeaders.GetValues("X-Api-Key").Single();
        var key = Guid.NewGuid().ToString();
        var body = new { type = "noop", payload = new { echo = "rotated" } };
        using var first = await client.SendAsync(Submit(key, body));
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        var created = (await first.Content.ReadFromJsonAsync<JobDto>(JobClientExtensions.Json))!;

        await using var rotated = new RotatedKeysFactory().OnDatabase(app.DatabaseUrl);
        await ((IAsyncLifetime)rotated).InitializeAsync();
        using var after = rotated.CreateClient();
        after.DefaultRequestHeaders.Add("X-Api-Key", apiKey);

        using var replay = await after.SendAsync(Submit(key, body));
        using var other = await after.SendAsync(Submit(key, new { type = "noop", payload = new { echo = "another" } }));
        var newKey = Guid.NewGuid().ToString();
        using var fresh = await after.SendAsync(Submit(newKey, body));
        using var freshReplay = await after.SendAsync(Submit(newKey, body));

        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.Equal(created.Id, (await replay.Content.ReadFromJsonAsync<JobDto>(JobClientExtensions.Json))!.Id);
        Assert.Equal(HttpStatusCode.Conflict, other.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, fresh.StatusCode);
        Assert.Equal(HttpStatusCode.OK, freshReplay.StatusCode);
        await using var db = app.CreateDbContext();
        var hashes = await db.Jobs.Where(j => j.IdempotencyKey == key || j.IdempotencyKey == newKey).Select(j => j.RequestHash).ToListAsync();
        Assert.Equal(2, hashes.Distinct().Count()); // the same request, hashed under another key
    }
}
