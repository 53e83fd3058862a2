using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Features.HttpRequests;

/// <summary>
/// <c>http_request</c> against a real vendor on 127.0.0.1: what the vendor receives, what is stored (read with SQL),
/// what GET shows and for how long, how answers are judged, and that secrets stay out of the database and the logs.
/// </summary>
public sealed class HttpRequestJobTests(HttpRequestsFactory app) : IClassFixture<HttpRequestsFactory>
{
    private const string Token = "Bearer sk-live-4f1d9a";
    private const string Ssn = "078-05-1120";
    private const string Dob = "1961-07-04";
    private const string VendorSecret = "match-score-0.9731";

    private static object VerifyPayload(LoopbackServer vendor, object? extra = null) => new
    {
        method = "POST",
        url = vendor.Url("/verify?case=42"),
        headers = new Dictionary<string, string> { ["Authorization"] = Token, ["X-Client"] = "monolith-test" },
        body = new { name = "Ada Lovelace", ssn = Ssn, person = new { dob = Dob, city = "London" } },
        sensitive = new[] { "ssn", "$.person.dob" },
        responseHeaders = new[] { "X-Request-Id" },
    };

    private static Task<LoopbackServer> VerifyingVendorAsync() => LoopbackServer.StartAsync(async (context, _) =>
    {
        context.Response.Headers["X-Request-Id"] = "req-981";
        context.Response.Headers["X-Other"] = "not kept";
        await context.Response.WriteAsJsonAsync(new { verdict = "pass", detail = VendorSecret });
    });

    [Fact]
    public async Task HttpRequest_VendorGetsThePlainRequest_AndGetShowsItsAnswer()
    {
        await using var vendor = await VerifyingVendorAsync();
        var client = await app.CreateTenantClientAsync();

        var job = await client.SubmitJobAsync("http_request", VerifyPayload(vendor));
        var done = await client.WaitForStateAsync(job.Id, "succeeded");

        var received = Assert.Single(vendor.Requests);
        Assert.Equal("POST", received.Method);
        Assert.Equal("/verify?case=42", received.Path);
        Assert.Equal(Token, received.Headers["Authorization"]);
        Assert.Equal("monolith-test", received.Headers["X-Client"]);
        Assert.StartsWith("application/json", received.Headers["Content-Type"]);
        var sent = JsonDocument.Parse(received.Body).RootElement;
        Assert.Equal(Ssn, sent.GetProperty("ssn").GetString());
        Assert.Equal(Dob, sent.GetProperty("person").GetProperty("dob").GetString());
        Assert.Equal("London", sent.GetProperty("person").GetProperty("city").GetString());

        var result = done.Result!.Value;
        Assert.Equal(200, result.GetProperty("status").GetInt32());
        Assert.Equal("req-981", result.GetProperty("headers").GetProperty("X-Request-Id").GetString());
        Assert.False(result.GetProperty("headers").TryGetProperty("X-Other", out _));
        Assert.Equal(VendorSecret, JsonDocument.Parse(result.GetProperty("body").GetString()!).RootElement.GetProperty("detail").GetString());
        Assert.False(result.GetProperty("truncated").GetBoolean());
    }

    [Fact]
    public async Task HttpRequest_SecretsAreUnreadableInTheDatabaseAndTheLogs()
    {
        await using var vendor = await VerifyingVendorAsync();
        var client = await app.CreateTenantClientAsync();

        var job = await client.SubmitJobAsync("http_request", VerifyPayload(vendor));
        await client.WaitForStateAsync(job.Id, "succeeded");

        var payload = (await app.ReadColumnAsync(job.Id, "payload"))!;
        var result = (await app.ReadColumnAsync(job.Id, "result"))!;
        foreach (var secret in new[] { "sk-live-4f1d9a", Ssn, Dob, "monolith-test" })
        {
            Assert.DoesNotContain(secret, payload);
        }
        Assert.DoesNotContain(VendorSecret, result);
        Assert.DoesNotContain("req-981", result);
        Assert.StartsWith("\"enc:v1:", result); // the whole result is one encrypted string
        var stored = JsonDocument.Parse(payload).RootElement;
        Assert.StartsWith("enc:v1:", stored.GetProperty("headers").GetProperty("Authorization").GetString());
        Assert.StartsWith("enc:v1:", stored.GetProperty("body").GetProperty("ssn").GetString());
        Assert.StartsWith("enc:v1:", stored.GetProperty("body").GetProperty("person").GetProperty("dob").GetString());
        Assert.Equal("London", stored.GetProperty("body").GetProperty("person").GetProperty("city").GetString()); // not marked: kept as sent
        Assert.Equal(vendor.Url("/verify?case=42"), stored.GetProperty("url").GetString());

        var logs = app.Logs.All;
        Assert.Contains(job.Id.ToString(), logs); // the capture did see this job's lines
        foreach (var secret in new[] { "sk-live-4f1d9a", Ssn, Dob, VendorSecret })
        {
            Assert.DoesNotContain(secret, logs);
        }
    }

    [Fact]
    public async Task HttpRequest_SubmittedInABatch_IsStoredEncryptedAndRuns()
    {
        await using var vendor = await VerifyingVendorAsync();
        var client = await app.CreateTenantClientAsync();

        var batch = await client.PostJsonAsync<JsonElement>("/v1/jobs/batch",
            new { jobs = new[] { new { type = "http_request", payload = VerifyPayload(vendor) } } });
        var id = batch.GetProperty("ids")[0].GetGuid();
        await client.WaitForStateAsync(id, "succeeded");

        var payload = (await app.ReadColumnAsync(id, "payload"))!;
        Assert.DoesNotContain(Ssn, payload);
        Assert.DoesNotContain("sk-live-4f1d9a", payload);
        Assert.Equal(Token, Assert.Single(vendor.Requests).Headers["Authorization"]);
        var listed = await client.GetFromJsonAsync<JsonElement>("/v1/jobs?type=http_request");
        var item = listed.GetProperty("items").EnumerateArray().Single(j => j.GetProperty("id").GetGuid() == id);
        Assert.Equal(200, item.GetProperty("result").GetProperty("status").GetInt32()); // the listing decrypts it too
    }

    [Fact]
    public async Task HttpRequest_ResultIsDeletedFromTheRow_AfterItsTimeToLive()
    {
        await using var vendor = await VerifyingVendorAsync();
        var client = await app.CreateTenantClientAsync();

        var job = await client.SubmitJobAsync("http_request", VerifyPayload(vendor), new { resultTtlSeconds = 2 });
        var done = await client.WaitForStateAsync(job.Id, "succeeded");
        var seen = await client.GetFromJsonAsync<JsonElement>($"/v1/jobs/{job.Id}");
        Assert.NotNull(done.Result);
        Assert.False(seen.GetProperty("resultExpired").GetBoolean());
        var expiresAt = seen.GetProperty("resultExpiresAt").GetDateTimeOffset();
        Assert.InRange(expiresAt - done.FinishedAt!.Value, TimeSpan.FromSeconds(1.9), TimeSpan.FromSeconds(2.1));

        // Once the time has passed GET never shows it, whether or not the sweep has run yet ...
        var clock = Stopwatch.StartNew();
        JsonElement expired;
        do
        {
            await Task.Delay(100);
            expired = await client.GetFromJsonAsync<JsonElement>($"/v1/jobs/{job.Id}");
            Assert.True(expired.GetProperty("result").ValueKind != JsonValueKind.Null || DateTimeOffset.UtcNow >= expiresAt.AddMilliseconds(-50),
                "The result disappeared before its time.");
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "The result did not expire.");
        } while (!expired.GetProperty("resultExpired").GetBoolean());
        Assert.Equal(JsonValueKind.Null, expired.GetProperty("result").ValueKind);

        // ... and the sweep deletes it from the row (every 5 s).
        clock.Restart();
        while (await app.ReadColumnAsync(job.Id, "result IS NULL AND result_expired") != "true")
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "The expired result is still in the database.");
            await Task.Delay(200);
        }
        Assert.Null(await app.ReadColumnAsync(job.Id, "result"));
        var after = await client.GetFromJsonAsync<JsonElement>($"/v1/jobs/{job.Id}");
        Assert.True(after.GetProperty("resultExpired").GetBoolean());
        Assert.Equal("succeeded", after.GetProperty("state").GetString());
    }

    [Fact]
    public async Task HttpRequest_RetriesA503_ThenSucceeds()
    {
        await using var vendor = await LoopbackServer.StartAsync(async (context, call) =>
        {
            context.Response.StatusCode = call == 1 ? 503 : 200;
            await context.Response.WriteAsync(call == 1 ? "busy" : "ok");
        });
        var client = await app.CreateTenantClientAsync();

        var job = await client.SubmitJobAsync("http_request", new { method = "GET", url = vendor.Url("/status") }, new { backoffSeconds = 0 });
        var done = await client.WaitForStateAsync(job.Id, "succeeded");

        Assert.Equal(2, vendor.Requests.Count);
        Assert.Equal(2, done.Attempt);
        Assert.Contains("503", done.Attempts[0].Error);
        Assert.Equal("ok", done.Result!.Value.GetProperty("body").GetString());
    }

    [Fact]
    public async Task HttpRequest_FailsAtOnce_OnA400()
    {
        await using var vendor = await LoopbackServer.StartAsync((context, _) =>
        {
            context.Response.StatusCode = 400;
            return Task.CompletedTask;
        });
        var client = await app.CreateTenantClientAsync();

        var job = await client.SubmitJobAsync("http_request", new { method = "GET", url = vendor.Url("/x") }, new { backoffSeconds = 0 });
        var failed = await client.WaitForStateAsync(job.Id, "failed");

        Assert.Single(vendor.Requests);
        Assert.Equal(1, failed.Attempt);
        Assert.Contains("400", failed.LastError);
        Assert.Null(failed.Result);
    }

    [Fact]
    public async Task HttpRequest_WaitsAtLeastRetryAfter_OnA429()
    {
        await using var vendor = await LoopbackServer.StartAsync((context, call) =>
        {
            if (call == 1)
            {
                context.Response.StatusCode = 429;
                context.Response.Headers.RetryAfter = "2";
            }
            return Task.CompletedTask;
        });
        var client = await app.CreateTenantClientAsync();

        var job = await client.SubmitJobAsync("http_request", new { method = "GET", url = vendor.Url("/limited") }, new { backoffSeconds = 0 });
        await client.WaitForStateAsync(job.Id, "succeeded");

        var calls = vendor.Requests;
        Assert.Equal(2, calls.Count);
        Assert.True(calls[1].At - calls[0].At >= TimeSpan.FromSeconds(1.9), $"Retried after {(calls[1].At - calls[0].At).TotalSeconds:F2} s.");
    }

    [Fact]
    public async Task HttpRequest_TimesOutAfterItsTimeout_AsARetryableFailure()
    {
        await using var vendor = await LoopbackServer.StartAsync(async (context, _) =>
            await Task.Delay(TimeSpan.FromSeconds(20), context.RequestAborted));
        var client = await app.CreateTenantClientAsync();

        var job = await client.SubmitJobAsync("http_request", new { method = "GET", url = vendor.Url("/slow"), timeoutSeconds = 1 },
            new { maxAttempts = 2, backoffSeconds = 0 });
        var failed = await client.WaitForStateAsync(job.Id, "failed", TimeSpan.FromSeconds(20));

        Assert.Equal(2, failed.Attempt); // retried once
        Assert.All(failed.Attempts, a => Assert.Contains("timed out", a.Error));
    }

    [Fact]
    public async Task HttpRequest_RefusesAPrivateAddress_WithoutRetrying()
    {
        var client = await app.CreateTenantClientAsync();

        var job = await client.SubmitJobAsync("http_request", new { method = "GET", url = "http://10.20.30.40/internal" });
        var failed = await client.WaitForStateAsync(job.Id, "failed");

        Assert.Equal(1, failed.Attempt);
        Assert.Contains("private", failed.LastError);
    }

    [Fact]
    public async Task HttpRequest_CutsALongAnswer_AndSaysSo()
    {
        var big = new string('x', HttpRequestsFactory.MaxResponseBytes * 3);
        await using var vendor = await LoopbackServer.StartAsync(async (context, _) =>
        {
            context.Response.ContentType = "text/plain";
            await context.Response.WriteAsync(big);
        });
        var client = await app.CreateTenantClientAsync();

        var job = await client.SubmitJobAsync("http_request", new { method = "GET", url = vendor.Url("/big") });
        var done = await client.WaitForStateAsync(job.Id, "succeeded");

        Assert.True(done.Result!.Value.GetProperty("truncated").GetBoolean());
        Assert.Equal(HttpRequestsFactory.MaxResponseBytes, done.Result.Value.GetProperty("body").GetString()!.Length);
    }

    [Theory]
    [InlineData("""{"method":"POST","url":"http://127.0.0.1/","body":{"a":1},"sensitive":["ssn"]}""", "payload.sensitive[0]")]
    [InlineData("""{"method":"POST","url":"http://127.0.0.1/","body":{"a":{"b":1}},"sensitive":["a","a.b"]}""", "payload.sensitive[1]")]
    [InlineData("""{"method":"POST","url":"http://127.0.0.1/","sensitive":["a"]}""", "payload.sensitive")]
    [InlineData("""{"method":"FETCH","url":"http://127.0.0.1/"}""", "payload.method")]
    [InlineData("""{"method":"GET","url":"ftp://127.0.0.1/"}""", "payload.url")]
    [InlineData("""{"method":"GET","url":"http://127.0.0.1/","headers":{"Host":"x"}}""", "payload.headers")]
    [InlineData("""{"method":"GET","url":"http://127.0.0.1/","headers":{"Authorization":"Bearer sk-live-…"}}""", "payload.headers")]
    [InlineData("""{"method":"GET","url":"http://127.0.0.1/","timeoutSeconds":0}""", "payload.timeoutSeconds")]
    public async Task HttpRequest_BadPayload_IsA400NamingTheField(string payload, string field)
    {
        var client = await app.CreateTenantClientAsync();

        using var response = await client.PostAsync("/v1/jobs", JsonContent.Create(
            new { type = "http_request", payload = JsonDocument.Parse(payload).RootElement }));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"No error for {field}: {problem}");
    }

    [Fact]
    public async Task ResultTtlSeconds_OutOfRange_IsA400()
    {
        var client = await app.CreateTenantClientAsync();

        using var response = await client.PostAsJsonAsync("/v1/jobs", new { type = "noop", payload = new { }, resultTtlSeconds = 0 });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(problem.GetProperty("errors").TryGetProperty("resultTtlSeconds", out _), problem.ToString());
    }
}
