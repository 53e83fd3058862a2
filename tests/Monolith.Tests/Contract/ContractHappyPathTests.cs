using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Contract;

/// <summary>
/// Walks every feature of the API as a client would (admin, jobs, queues, uploads, transfers, syncs, snapshots,
/// datasets, names) and holds every answer to the service's own OpenAPI document: <see cref="ContractCheckingHandler"/>
/// fails the request whose status, media type or body the document does not describe. Each step also checks the
/// status it expects, so a wrong answer fails here even where the document would allow it.
/// </summary>
public sealed class ContractHappyPathTests(ContractFactory app) : IClassFixture<ContractFactory>
{
    private static readonly JsonSerializerOptions Json = JobClientExtensions.Json;

    [Fact]
    public async Task AdminAnswers_MatchTheDocument()
    {
        using var admin = app.CreateAdminClient();
        var tenant = await SendAsync(admin, HttpMethod.Post, "/v1/admin/tenants", new { name = "contract-admin" }, HttpStatusCode.Created);
        var tenantId = tenant.GetProperty("tenant").GetProperty("id").GetGuid();
        await SendAsync(admin, HttpMethod.Get, "/v1/admin/tenants", null, HttpStatusCode.OK);
        var key = await SendAsync(admin, HttpMethod.Post, $"/v1/admin/tenants/{tenantId}/keys", new { name = "ci" }, HttpStatusCode.Created);
        await SendAsync(admin, HttpMethod.Post, $"/v1/admin/tenants/{tenantId}/keys", new { }, HttpStatusCode.Created);
        var keys = await SendAsync(admin, HttpMethod.Get, $"/v1/admin/tenants/{tenantId}/keys", null, HttpStatusCode.OK);
        Assert.Equal(3, keys.GetArrayLength());
        await SendAsync(admin, HttpMethod.Delete, $"/v1/admin/keys/{key.GetProperty("id").GetGuid()}", null, HttpStatusCode.NoContent);
        var keysAfter = await SendAsync(admin, HttpMethod.Get, $"/v1/admin/tenants/{tenantId}/keys", null, HttpStatusCode.OK);
        Assert.Contains(keysAfter.EnumerateArray(), k => k.GetProperty("revokedAt").ValueKind == JsonValueKind.String);
        await SendAsync(admin, HttpMethod.Post, $"/v1/admin/tenants/{tenantId}/webhook-secret", null, HttpStatusCode.OK);
        await SendAsync(admin, HttpMethod.Post, $"/v1/admin/tenants/{Guid.NewGuid()}/webhook-secret", null, HttpStatusCode.NotFound);
        await SendAsync(admin, HttpMethod.Post, "/v1/queues/low/pause", null, HttpStatusCode.OK);
        var queues = await SendAsync(admin, HttpMethod.Get, "/v1/queues", null, HttpStatusCode.OK);
        Assert.Contains(queues.GetProperty("items").EnumerateArray(), q => q.GetProperty("name").GetString() == "low" && q.GetProperty("paused").GetBoolean());
        await SendAsync(admin, HttpMethod.Post, "/v1/queues/low/resume", null, HttpStatusCode.OK);
        await SendAsync(admin, HttpMethod.Post, "/v1/queues/nope/pause", null, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task JobAnswers_MatchTheDocument()
    {
        using var client = await app.CreateTenantClientAsync();
        var noop = await SendAsync(client, HttpMethod.Post, "/v1/jobs", new { type = "noop", payload = new { echo = "hi" } }, HttpStatusCode.Accepted);
        var noopId = noop.GetProperty("id").GetGuid();
        var done = await SendAsync(client, HttpMethod.Get, $"/v1/jobs/{noopId}?wait=20", null, HttpStatusCode.OK);
        Assert.Equal("succeeded", done.GetProperty("state").GetString());
        Assert.Equal("hi", done.GetProperty("result").GetProperty("echo").GetString());

        using (var first = Request(HttpMethod.Post, "/v1/jobs", new { type = "noop", payload = new { } }))
        using (var again = Request(HttpMethod.Post, "/v1/jobs", new { type = "noop", payload = new { } }))
        using (var other = Request(HttpMethod.Post, "/v1/jobs", new { type = "noop", payload = new { echo = "other" } }))
        {
            foreach (var r in new[] { first, again, other }) r.Headers.Add("Idempotency-Key", "contract-1");
            await SendAsync(client, first, HttpStatusCode.Accepted);
            await SendAsync(client, again, HttpStatusCode.OK);
            await SendAsync(client, other, HttpStatusCode.Conflict);
        }

        // A sleep job shows progress while it runs, and its events stream as text/event-stream.
        var sleep = await SendAsync(client, HttpMethod.Post, "/v1/jobs",
            new { type = "sleep", payload = new { ms = 3000 }, queue = "critical", priority = 5, maxAttempts = 2, timeoutSeconds = 60 }, HttpStatusCode.Accepted);
        var sleepId = sleep.GetProperty("id").GetGuid();
        var running = await WaitUntilAsync(client, $"/v1/jobs/{sleepId}", j => j.GetProperty("progress").ValueKind == JsonValueKind.Object);
        Assert.Equal("running", running.GetProperty("state").GetString());
        using (var events = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, $"/v1/jobs/{sleepId}/events"), HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.OK, events.StatusCode);
            Assert.Equal("text/event-stream", events.Content.Headers.ContentType?.MediaType);
        }
        await SendAsync(client, HttpMethod.Post, $"/v1/jobs/{sleepId}/cancel", null, HttpStatusCode.Accepted);
        await WaitUntilAsync(client, $"/v1/jobs/{sleepId}", j => j.GetProperty("state").GetString() == "cancelled");
        await SendAsync(client, HttpMethod.Post, $"/v1/jobs/{sleepId}/cancel", null, HttpStatusCode.Conflict);
        await SendAsync(client, HttpMethod.Post, $"/v1/jobs/{sleepId}/retry", null, HttpStatusCode.Accepted);
        await SendAsync(client, HttpMethod.Delete, $"/v1/jobs/{sleepId}", null, HttpStatusCode.Conflict);
        await SendAsync(client, HttpMethod.Post, $"/v1/jobs/{sleepId}/cancel", null, HttpStatusCode.Accepted);
        await WaitUntilAsync(client, $"/v1/jobs/{sleepId}", j => j.GetProperty("state").GetString() == "cancelled");
        await SendAsync(client, HttpMethod.Delete, $"/v1/jobs/{sleepId}", null, HttpStatusCode.NoContent);
        await SendAsync(client, HttpMethod.Get, $"/v1/jobs/{sleepId}", null, HttpStatusCode.NotFound);

        var fail = await SendAsync(client, HttpMethod.Post, "/v1/jobs",
            new { type = "fail", payload = new { failTimes = 1, retryable = false }, delaySeconds = 0, backoffSeconds = 0 }, HttpStatusCode.Accepted);
        var failed = await WaitUntilAsync(client, $"/v1/jobs/{fail.GetProperty("id").GetGuid()}", j => j.GetProperty("state").GetString() == "failed");
        Assert.Equal("failed", failed.GetProperty("attempts")[0].GetProperty("outcome").GetString());
        await SendAsync(client, HttpMethod.Post, $"/v1/jobs/{fail.GetProperty("id").GetGuid()}/retry", null, HttpStatusCode.Accepted);
        await SendAsync(client, HttpMethod.Post, "/v1/jobs",
            new { type = "sleep", payload = new { ms = 10 }, runAt = DateTimeOffset.UtcNow.AddHours(1), resultTtlSeconds = 60 }, HttpStatusCode.Accepted);

        var batch = await SendAsync(client, HttpMethod.Post, "/v1/jobs/batch",
            new { jobs = new object[] { new { type = "noop", payload = new { } }, new { type = "sleep", payload = new { ms = 1 }, queue = "low" } } },
            HttpStatusCode.Accepted);
        Assert.Equal(2, batch.GetProperty("ids").GetArrayLength());

        var page = await SendAsync(client, HttpMethod.Get, "/v1/jobs?limit=2", null, HttpStatusCode.OK);
        var cursor = page.GetProperty("nextCursor").GetString();
        await SendAsync(client, HttpMethod.Get, $"/v1/jobs?limit=2&cursor={cursor}&state=succeeded&type=noop&queue=default", null, HttpStatusCode.OK);
        await SendAsync(client, HttpMethod.Get, "/v1/jobs?state=sideways", null, HttpStatusCode.BadRequest);
        await SendAsync(client, HttpMethod.Get, "/v1/queues", null, HttpStatusCode.OK);
        await SendAsync(client, HttpMethod.Post, "/v1/jobs", new { type = "sleep", payload = new { ms = -1 } }, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task UploadAndTransferAnswers_MatchTheDocument()
    {
        await using var destination = await LoopbackServer.StartAsync();
        using var client = await app.CreateTenantClientAsync();
        var bytes = Encoding.UTF8.GetBytes("%PDF-1.7 contract test document");
        using var raw = new ByteArrayContent(bytes);
        raw.Headers.ContentType = new MediaTypeHeaderValue("application/pdf");
        var upload = await SendAsync(client, new HttpRequestMessage(HttpMethod.Post, "/v1/uploads?filename=claim.pdf") { Content = raw }, HttpStatusCode.Created);
        var uploadId = upload.GetProperty("id").GetGuid();

        using var form = new MultipartFormDataContent { { new ByteArrayContent(bytes), "file", "form.pdf" } };
        var formUpload = await SendAsync(client, new HttpRequestMessage(HttpMethod.Post, "/v1/uploads") { Content = form }, HttpStatusCode.Created);
        await SendAsync(client, HttpMethod.Get, $"/v1/uploads/{uploadId}", null, HttpStatusCode.OK);
        using (var content = await client.GetAsync($"/v1/uploads/{uploadId}/content"))
        {
            Assert.Equal(HttpStatusCode.OK, content.StatusCode);
            Assert.Equal(bytes, await content.Content.ReadAsByteArrayAsync());
        }
        using (var range = new HttpRequestMessage(HttpMethod.Get, $"/v1/uploads/{uploadId}/content"))
        {
            range.Headers.Range = new RangeHeaderValue(0, 3);
            using var partial = await client.SendAsync(range);
            Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        }
        using (var beyond = new HttpRequestMessage(HttpMethod.Get, $"/v1/uploads/{uploadId}/content"))
        {
            beyond.Headers.Range = new RangeHeaderValue(10_000, null);
            using var unsatisfiable = await client.SendAsync(beyond);
            Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, unsatisfiable.StatusCode);
        }
        using (var changed = new HttpRequestMessage(HttpMethod.Get, $"/v1/uploads/{uploadId}/content"))
        {
            changed.Headers.IfMatch.Add(new EntityTagHeaderValue("\"another\""));
            using var precondition = await client.SendAsync(changed);
            Assert.Equal(HttpStatusCode.PreconditionFailed, precondition.StatusCode);
        }
        using (var same = new HttpRequestMessage(HttpMethod.Get, $"/v1/uploads/{uploadId}/content"))
        {
            same.Headers.IfNoneMatch.Add(new EntityTagHeaderValue($"\"{upload.GetProperty("sha256").GetString()}\""));
            using var notModified = await client.SendAsync(same);
            Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        }
        using (var tooLarge = new ByteArrayContent(new byte[ContractFactory.MaxUploadBytes + 1]))
        {
            await SendAsync(client, new HttpRequestMessage(HttpMethod.Post, "/v1/uploads?filename=big.bin") { Content = tooLarge }, HttpStatusCode.RequestEntityTooLarge);
        }

        var toDirectory = await SendAsync(client, HttpMethod.Post, "/v1/transfers", new
        {
            source = new { type = "upload", uploadId },
            destination = new { type = "directory", path = "contract/claim.pdf" },
            metadata = new Dictionary<string, string> { ["caseNumber"] = "C-1" },
        }, HttpStatusCode.Accepted);
        var toHttp = await SendAsync(client, HttpMethod.Post, "/v1/transfers", new
        {
            source = new { type = "upload", uploadId = formUpload.GetProperty("id").GetGuid() },
            destination = new { type = "http", url = destination.Url("/inbox"), method = "POST", headers = new Dictionary<string, string> { ["Authorization"] = "Bearer x" },
                form = new Dictionary<string, string> { ["kind"] = "claim" } },
        }, HttpStatusCode.Accepted);
        foreach (var id in new[] { toDirectory.GetProperty("id").GetGuid(), toHttp.GetProperty("id").GetGuid() })
        {
            var finished = await WaitUntilAsync(client, $"/v1/transfers/{id}", t => t.GetProperty("state").GetString() is "completed" or "failed" && JobFinished(t));
            Assert.Equal("completed", finished.GetProperty("state").GetString());
            await SendAsync(client, HttpMethod.Post, $"/v1/transfers/{id}/cancel", null, HttpStatusCode.Conflict);
            await SendAsync(client, HttpMethod.Post, $"/v1/transfers/{id}/retry", null, HttpStatusCode.Conflict);
        }
        await SendAsync(client, HttpMethod.Get, "/v1/transfers?limit=1", null, HttpStatusCode.OK);
        await SendAsync(client, HttpMethod.Get, $"/v1/transfers/{Guid.NewGuid()}", null, HttpStatusCode.NotFound);
        await SendAsync(client, HttpMethod.Post, "/v1/transfers", new { source = new { type = "upload" } }, HttpStatusCode.BadRequest);
        await SendAsync(client, HttpMethod.Delete, $"/v1/uploads/{uploadId}", null, HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task SyncAndSnapshotAnswers_MatchTheDocument()
    {
        await using var source = await LoopbackServer.StartAsync();
        source.Handle("/items", async http =>
        {
            var page = int.Parse(http.Request.Query["page"].ToString() is { Length: > 0 } p ? p : "1");
            http.Response.ContentType = "application/json";
            await http.Response.WriteAsync(page == 1
                ? """{"items":[{"id":"a","name":"Ada","status":"active"},{"id":"b","name":"Bob","status":"idle"}],"meta":{"total":2}}"""
                : """{"items":[],"meta":{"total":2}}""");
        });
        using var client = await app.CreateTenantClientAsync();
        var created = await SendAsync(client, HttpMethod.Post, "/v1/syncs", new
        {
            snapshot = "people",
            source = new
            {
                url = source.Url("/items"),
                headers = new Dictionary<string, string> { ["Authorization"] = "Bearer s" },
                pagination = new { type = "page", totalPath = "meta.total" },
                itemsPath = "items",
                idPath = "id",
            },
        }, HttpStatusCode.Accepted);
        var id = created.GetProperty("id").GetGuid();
        var finished = await WaitUntilAsync(client, $"/v1/syncs/{id}", s => s.GetProperty("state").GetString() is "completed" or "failed" && JobFinished(s));
        Assert.Equal("completed", finished.GetProperty("state").GetString());
        await SendAsync(client, HttpMethod.Get, "/v1/syncs?snapshot=people&limit=5", null, HttpStatusCode.OK);
        await SendAsync(client, HttpMethod.Post, $"/v1/syncs/{id}/retry", null, HttpStatusCode.Conflict);
        await SendAsync(client, HttpMethod.Post, $"/v1/syncs/{id}/cancel", null, HttpStatusCode.Conflict);
        await SendAsync(client, HttpMethod.Get, $"/v1/syncs/{Guid.NewGuid()}", null, HttpStatusCode.NotFound);

        var records = await SendAsync(client, HttpMethod.Get, "/v1/snapshots/people/records?limit=1", null, HttpStatusCode.OK);
        var next = records.GetProperty("nextCursor").GetString();
        await SendAsync(client, HttpMethod.Get, $"/v1/snapshots/people/records?cursor={next}&filter=status:idle", null, HttpStatusCode.OK);
        await SendAsync(client, HttpMethod.Get, "/v1/snapshots/people/records/a", null, HttpStatusCode.OK);
        await SendAsync(client, HttpMethod.Get, "/v1/snapshots/people/records/zz", null, HttpStatusCode.NotFound);
        await SendAsync(client, HttpMethod.Get, "/v1/snapshots/people/records?filter=nocolon", null, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task DatasetAndNameAnswers_MatchTheDocument()
    {
        using var client = await app.CreateTenantClientAsync();
        var file = Encoding.UTF8.GetBytes("Olivia,F,100\r\nEmma,F,90\r\nLiam,M,120\r\n");
        var created = await SendAsync(client, new HttpRequestMessage(HttpMethod.Post, "/v1/datasets") { Content = DatasetForm(file, "yob2020.txt") },
            HttpStatusCode.Accepted);
        var id = created.GetProperty("id").GetGuid();
        var finished = await WaitUntilAsync(client, $"/v1/datasets/{id}", d => d.GetProperty("state").GetString() is "completed" or "failed" && JobFinished(d));
        Assert.Equal("completed", finished.GetProperty("state").GetString());
        await SendAsync(client, HttpMethod.Get, "/v1/datasets?country=US&limit=5", null, HttpStatusCode.OK);
        var top = await SendAsync(client, HttpMethod.Get, "/v1/names/top?country=US&year=2020&limit=2", null, HttpStatusCode.OK);
        Assert.Equal("Liam", top.GetProperty("names")[0].GetProperty("name").GetString());
        await SendAsync(client, HttpMethod.Get, "/v1/names/top?country=US&year=2020&sex=F", null, HttpStatusCode.OK);
        await SendAsync(client, HttpMethod.Get, "/v1/names/Olivia?country=US", null, HttpStatusCode.OK);
        await SendAsync(client, HttpMethod.Get, "/v1/names/top?country=US", null, HttpStatusCode.BadRequest);

        await SendAsync(client, HttpMethod.Post, $"/v1/datasets/{id}/reprocess", null, HttpStatusCode.Accepted);
        await WaitUntilAsync(client, $"/v1/datasets/{id}", d => d.GetProperty("state").GetString() is "completed" or "failed" && JobFinished(d));
        await SendAsync(client, HttpMethod.Delete, $"/v1/datasets/{id}", null, HttpStatusCode.NoContent);
        await SendAsync(client, HttpMethod.Get, $"/v1/datasets/{id}", null, HttpStatusCode.NotFound);
        await SendAsync(client, new HttpRequestMessage(HttpMethod.Post, "/v1/datasets") { Content = DatasetForm(new byte[ContractFactory.MaxUploadBytes + 1], "yob2021.txt") },
            HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task ErrorAnswers_AreDocumented()
    {
        using var anonymous = app.CreateClient();
        using var tenant = await app.CreateTenantClientAsync();
        await SendAsync(anonymous, HttpMethod.Get, "/v1/jobs", null, HttpStatusCode.Unauthorized);
        await SendAsync(anonymous, HttpMethod.Post, "/v1/admin/tenants", new { name = "x" }, HttpStatusCode.Unauthorized);
        await SendAsync(tenant, HttpMethod.Post, "/v1/admin/tenants", new { name = "x" }, HttpStatusCode.Forbidden);
        await SendAsync(tenant, HttpMethod.Post, "/v1/queues/low/pause", null, HttpStatusCode.Forbidden);
        await SendAsync(tenant, new HttpRequestMessage(HttpMethod.Post, "/v1/jobs") { Content = new StringContent("type=noop", Encoding.UTF8, "text/plain") },
            HttpStatusCode.UnsupportedMediaType);
        await SendAsync(tenant, new HttpRequestMessage(HttpMethod.Post, "/v1/jobs") { Content = new StringContent("{\"type\":", Encoding.UTF8, "application/json") },
            HttpStatusCode.BadRequest);
        await SendAsync(tenant, HttpMethod.Get, "/v1/jobs?limit=abc", null, HttpStatusCode.BadRequest);
        await SendAsync(tenant, HttpMethod.Get, $"/v1/jobs/{Guid.NewGuid()}?wait=-1", null, HttpStatusCode.BadRequest);
        await SendAsync(tenant, HttpMethod.Post, $"/v1/jobs/{Guid.NewGuid()}/retry", null, HttpStatusCode.NotFound);
        await SendAsync(tenant, HttpMethod.Get, $"/v1/uploads/{Guid.NewGuid()}/content", null, HttpStatusCode.NotFound);
    }

    /// <summary>Whether the job behind a transfer, sync or dataset has recorded its end (the resource may say so a moment before).</summary>
    private static bool JobFinished(JsonElement resource) =>
        resource.GetProperty("job") is { ValueKind: JsonValueKind.Object } job && job.GetProperty("state").GetString() is "succeeded" or "failed" or "cancelled";

    private static MultipartFormDataContent DatasetForm(byte[] file, string fileName)
    {
        var content = new ByteArrayContent(file);
        content.Headers.ContentType = new MediaTypeHeaderValue("text/plain");
        return new MultipartFormDataContent { { new StringContent("US"), "country" }, { content, "file", fileName } };
    }

    private static HttpRequestMessage Request(HttpMethod method, string url, object? body) =>
        new(method, url) { Content = body is null ? null : JsonContent.Create(body, options: Json) };

    private static async Task<JsonElement> SendAsync(HttpClient client, HttpMethod method, string url, object? body, HttpStatusCode expected)
    {
        using var request = Request(method, url, body);
        return await SendAsync(client, request, expected);
    }

    /// <summary>Sends (the contract is checked on the way back), then checks the status; the JSON body, if any.</summary>
    private static async Task<JsonElement> SendAsync(HttpClient client, HttpRequestMessage request, HttpStatusCode expected)
    {
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{request.Method} {request.RequestUri}: expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        return text.Length == 0 || !OpenApiContract.IsJson(response.Content.Headers.ContentType?.MediaType)
            ? default
            : JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Reads <paramref name="url"/> until <paramref name="done"/> holds (every read checked against the contract).</summary>
    private static async Task<JsonElement> WaitUntilAsync(HttpClient client, string url, Func<JsonElement, bool> done)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var current = await SendAsync(client, HttpMethod.Get, url, null, HttpStatusCode.OK);
            if (done(current)) return current;
            if (clock.Elapsed > TimeSpan.FromSeconds(60)) Assert.Fail($"{url} did not get there in 60 s: {current}");
            await Task.Delay(25);
        }
    }
}
