using System.Net;
using System.Net.Http.Json;
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
}
