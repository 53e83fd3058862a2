using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Features.Jobs;

/// <summary>Bad input gets a 400 problem body naming each field, never a 500, and stores nothing.</summary>
public sealed class ValidationTests(MonolithFactory app) : IClassFixture<MonolithFactory>
{
    private async Task<JsonElement> PostRawAsync(string json, HttpStatusCode expected = HttpStatusCode.BadRequest)
    {
        var client = await app.CreateTenantClientAsync();
        using var response = await client.PostAsync("/v1/jobs", new StringContent(json, Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"expected {expected}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        Assert.DoesNotContain("   at ", body); // no stack trace
        return JsonDocument.Parse(body).RootElement;
    }

    private static string[] ErrorKeys(JsonElement problem) =>
        problem.GetProperty("errors").EnumerateObject().Select(p => p.Name).ToArray();

    [Theory]
    [InlineData("""{"type":"nope","payload":{}}""", "type")]
    [InlineData("""{"payload":{}}""", "type")]
    [InlineData("""{"type":"sleep","payload":{"ms":-5}}""", "payload.ms")]
    [InlineData("""{"type":"sleep","payload":{"ms":"soon"}}""", "payload.ms")]
    [InlineData("""{"type":"sleep","payload":{"ms":10,"extra":1}}""", "payload.extra")]
    [InlineData("""{"type":"sleep","payload":[1,2]}""", "payload")]
    [InlineData("""{"type":"sleep"}""", "payload")]
    [InlineData("""{"type":"noop","payload":{},"runAt":"next tuesday"}""", "runAt")]
    [InlineData("""{"type":"noop","payload":{},"priority":"high"}""", "priority")]
    [InlineData("""{"type":"noop","payload":{},"priority":1000}""", "priority")]
    [InlineData("""{"type":"noop","payload":{},"maxAttempts":0}""", "maxAttempts")]
    [InlineData("""{"type":"noop","payload":{},"timeoutSeconds":99999999999}""", "timeoutSeconds")]
    [InlineData("""{"type":"noop","payload":{},"queue":"nowhere"}""", "queue")]
    [InlineData("""{"type":"noop","payload":{},"delaySeconds":-1}""", "delaySeconds")]
    [InlineData("""{"type":"noop","payload":{},"runAt":"2030-01-01T00:00:00Z","delaySeconds":5}""", "runAt")]
    [InlineData("""{"type":"http_request","payload":{}}""", "payload.url")]
    [InlineData("""{"type":"http_request","payload":{}}""", "payload.method")]
    [InlineData("""{"type":"http_request","payload":{"method":"GET"}}""", "payload.url")]
    [InlineData("""{"type":"http_request","payload":{"url":"https://vendor.example/v1"}}""", "payload.method")]
    [InlineData("""{"type":"http_request","payload":{"method":"","url":""}}""", "payload.url")]
    [InlineData("""{"type":"http_request","payload":{"method":"GET","url":"https://vendor.example/v1","responseHeaders":[null]}}""", "payload.responseHeaders")]
    public async Task Submit_BadField_Is400NamingTheField(string json, string field)
    {
        var problem = await PostRawAsync(json);

        Assert.Equal(400, problem.GetProperty("status").GetInt32());
        Assert.Contains(field, ErrorKeys(problem));
    }

    [Fact]
    public async Task Submit_BrokenJson_Is400()
    {
        var problem = await PostRawAsync("""{"type":"noop", "payload": {""");

        Assert.Equal(400, problem.GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task Submit_SeveralBadFields_NamesEachOfThem()
    {
        var problem = await PostRawAsync("""{"type":"sleep","payload":{"ms":-1},"priority":500,"maxAttempts":0}""");

        Assert.Equal(["maxAttempts", "payload.ms", "priority"], ErrorKeys(problem).Order());
    }

    [Fact]
    public async Task Submit_Invalid_StoresNothing()
    {
        var client = await app.CreateTenantClientAsync();
        await using var db = app.CreateDbContext();
        var before = db.Jobs.Count();

        using var response = await client.PostAsJsonAsync("/v1/jobs", new { type = "sleep", payload = new { ms = -1 } });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(before, db.Jobs.Count());
    }

    [Theory]
    [InlineData("/v1/jobs?state=exploded", "state")]
    [InlineData("/v1/jobs?cursor=not-a-cursor", "cursor")]
    [InlineData("/v1/jobs?limit=0", "limit")]
    [InlineData("/v1/jobs?limit=abc", "limit")]
    public async Task List_BadQuery_Is400NamingTheParameter(string url, string field)
    {
        var client = await app.CreateTenantClientAsync();

        using var response = await client.GetAsync(url);

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, body);
        Assert.Contains($"\"{field}\"", body);
    }

    [Fact]
    public async Task Get_MalformedId_Is404Problem()
    {
        var client = await app.CreateTenantClientAsync();

        using var response = await client.GetAsync("/v1/jobs/not-a-guid");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
    }
}
