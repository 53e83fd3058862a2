using Microsoft.AspNetCore.Http;
using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Features.Syncs;

/// <summary>
/// A sync follows only its source's own origin: a next link to another origin fails it (SyncPaginationTests), and so
/// does a page request that the source redirects to another origin, without that origin being called. Two real
/// servers on 127.0.0.1 (two ports: two origins).
/// </summary>
public sealed class SyncRedirectTests(SyncsFactory app) : IClassFixture<SyncsFactory>, IAsyncLifetime
{
    private const string ApiKey = "source-key-7c3d";
    private LoopbackServer _source = null!;
    private LoopbackServer _elsewhere = null!;

    public async Task InitializeAsync()
    {
        _source = await LoopbackServer.StartAsync();
        _elsewhere = await LoopbackServer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _source.DisposeAsync();
        await _elsewhere.DisposeAsync();
    }

    private static Task ServeItems(HttpContext http)
    {
        if (http.Request.Headers["X-Api-Key"] != ApiKey)
        {
            http.Response.StatusCode = 401;
            return Task.CompletedTask;
        }
        return http.Response.WriteAsJsonAsync(new { items = new[] { new { id = "a1", name = "one" }, new { id = "a2", name = "two" } } });
    }

    private static Func<HttpContext, Task> RedirectTo(string location, int status = 302) => http =>
    {
        http.Response.StatusCode = status;
        http.Response.Headers.Location = location;
        return Task.CompletedTask;
    };

    private static object Body(string url, string snapshot) => new
    {
        snapshot,
        source = new
        {
            url,
            headers = new Dictionary<string, string> { ["X-Api-Key"] = ApiKey },
            pagination = new { type = "cursor", nextCursorPath = "next" },
            itemsPath = "items",
            idPath = "id",
        },
    };

    [Theory]
    [InlineData(302)]
    [InlineData(307)]
    public async Task PageRedirectedToAnotherOrigin_FailsTheSync_WithoutCallingThatOrigin(int status)
    {
        var snapshot = "moved-" + Guid.NewGuid().ToString("N")[..8];
        _elsewhere.Handle("/items", ServeItems);
        _source.Handle($"/{snapshot}", RedirectTo(_elsewhere.Url("/items"), status));
        var client = await app.CreateTenantClientAsync();

        var created = await client.CreateSyncAsync(Body(_source.Url($"/{snapshot}"), snapshot));
        var done = await client.WaitUntilFinishedAsync(created.Id);

        Assert.Equal("failed", done.State);
        Assert.Contains("another origin", done.Error);
        Assert.Contains(new Uri(_elsewhere.BaseUrl).GetLeftPart(UriPartial.Authority), done.Error);
        Assert.Empty(_elsewhere.Requests);
        Assert.Equal(1, done.Job!.Attempt); // not retried
        Assert.Equal(0, done.RecordsUpserted);
        Assert.Empty(await client.AllRecordsAsync(snapshot));
    }

    [Fact]
    public async Task PageRedirectedOnTheSameOrigin_IsFollowed_WithTheSourcesHeaders()
    {
        var snapshot = "same-" + Guid.NewGuid().ToString("N")[..8];
        _source.Handle($"/{snapshot}/items", ServeItems);
        _source.Handle($"/{snapshot}", RedirectTo($"/{snapshot}/items"));
        var client = await app.CreateTenantClientAsync();

        var created = await client.CreateSyncAsync(Body(_source.Url($"/{snapshot}"), snapshot));
        var done = await client.WaitUntilFinishedAsync(created.Id);

        Assert.Equal("completed", done.State);
        Assert.Equal(2, done.RecordsUpserted);
        var followed = Assert.Single(_source.Requests, r => r.Path == $"/{snapshot}/items");
        Assert.Equal(ApiKey, followed.Headers["X-Api-Key"]);
        var records = await client.AllRecordsAsync(snapshot);
        Assert.Equal(["a1", "a2"], records.Select(r => r.ExternalId));
        Assert.Equal("one", records[0].Data.GetProperty("name").GetString());
    }
}
