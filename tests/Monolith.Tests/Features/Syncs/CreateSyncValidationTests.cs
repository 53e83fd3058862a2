using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Features.Syncs;

/// <summary>Bad sync requests: a 400 problem naming the field, never a job.</summary>
public sealed class CreateSyncValidationTests(SyncsFactory app) : IClassFixture<SyncsFactory>
{
    private static object Request(string? url = "http://127.0.0.1:9/items", object? pagination = null, string? idPath = "id", string? snapshot = "s") =>
        new { source = new { url, pagination = pagination ?? new { type = "page" }, itemsPath = "items", idPath }, snapshot };

    public static TheoryData<string, string> Cases => new()
    {
        { JsonSerializer.Serialize(Request(url: null)), "source.url" },
        { JsonSerializer.Serialize(Request(url: "ftp://example.com/x")), "source.url" },
        { JsonSerializer.Serialize(Request(url: "http://10.1.2.3/items")), "source.url" },                 // private address (SSRF)
        { JsonSerializer.Serialize(Request(url: "http://169.254.169.254/latest/meta-data")), "source.url" }, // cloud metadata
        { JsonSerializer.Serialize(Request(pagination: new { type = "offset" })), "source.pagination.type" },
        { JsonSerializer.Serialize(Request(pagination: new { type = "cursor" })), "source.pagination.nextCursorPath" },
        { JsonSerializer.Serialize(Request(pagination: new { type = "page", pageSize = 0 })), "source.pagination.pageSize" },
        { JsonSerializer.Serialize(Request(idPath: "")), "source.idPath" },
        { JsonSerializer.Serialize(Request(idPath: "a..b")), "source.idPath" },
        { JsonSerializer.Serialize(Request(snapshot: "no spaces please")), "snapshot" },
        { """{"snapshot":"s"}""", "source" },
        { """{"source":{"url":"http://127.0.0.1:9/","idPath":"id"},"snapshot":"s"}""", "source.pagination" },
        { """{"source":{"url":"http://127.0.0.1:9/","idPath":"id","pagination":{"type":"page"},"headers":{"Bad Name":"x"}},"snapshot":"s"}""", "source.headers" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task CreateSync_Answers400NamingTheField(string body, string field)
    {
        var client = await app.CreateTenantClientAsync();

        using var response = await client.PostAsync("/v1/syncs", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"errors do not name {field}: {problem}");
        await using var db = app.CreateDbContext();
        Assert.Empty(db.Syncs.Where(s => s.Snapshot == "s" || s.Snapshot == "no spaces please"));
    }

    [Fact]
    public async Task GetSync_IsA404ProblemForAnUnknownId()
    {
        var client = await app.CreateTenantClientAsync();
        using var response = await client.GetAsync($"/v1/syncs/{Guid.NewGuid()}");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}
