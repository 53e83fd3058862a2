using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Monolith.Tests.Features.Syncs;
using Monolith.Tests.Features.Transfers;
using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Features.Webhooks;

/// <summary>The service with a short webhook backoff (1 s doubling), so a receiver that was down is retried soon.</summary>
public sealed class WebhooksFactory : MonolithFactory
{
    protected override Dictionary<string, string?> Settings => new(base.Settings)
    {
        ["Webhooks:BackoffSeconds"] = "1",
        ["Webhooks:TimeoutSeconds"] = "5",
        ["Storage:Root"] = StorageRoot,
        ["Transfers:DirectoryRoot"] = DirectoryRoot,
    };

    public string StorageRoot { get; } = Path.Combine(Path.GetTempPath(), "monolith-webhooks-" + Guid.NewGuid().ToString("N"));
    public string DirectoryRoot { get; } = Directory.CreateTempSubdirectory("monolith-webhooks-outbox-").FullName;

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing && Directory.Exists(StorageRoot)) Directory.Delete(StorageRoot, recursive: true);
        if (disposing && Directory.Exists(DirectoryRoot)) Directory.Delete(DirectoryRoot, recursive: true);
    }

    /// <summary>A fresh tenant, a client with its key, and the webhook secret shown at creation.</summary>
    public async Task<(HttpClient Client, Guid TenantId, string Secret)> CreateTenantWithSecretAsync()
    {
        using var admin = CreateAdminClient();
        var created = await admin.PostJsonAsync<CreatedTenantWithSecret>("/v1/admin/tenants", new { name = "hooks-" + Guid.NewGuid().ToString("N")[..8] });
        Assert.StartsWith("whsec_", created.WebhookSecret);
        var client = CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", created.ApiKey.Key);
        return (client, created.Tenant.Id, created.WebhookSecret);
    }

    public sealed record CreatedTenantWithSecret(TenantDto Tenant, ApiKeyDto ApiKey, string WebhookSecret);
}

public sealed class WebhookTests(WebhooksFactory app) : IClassFixture<WebhooksFactory>
{
    /// <summary>How a receiver checks a delivery: the README's verification example, written out independently.</summary>
    private static bool Verify(string secret, string header, string body, TimeSpan tolerance)
    {
        var parts = header.Split(',').Select(p => p.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
        if (!parts.TryGetValue("t", out var t) || !parts.TryGetValue("v1", out var v1) || !long.TryParse(t, out var timestamp)) return false;
        if (Math.Abs(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - timestamp) > tolerance.TotalSeconds) return false;
        var expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{t}.{body}"));
        return CryptographicOperations.FixedTimeEquals(expected, Convert.FromHexString(v1));
    }

    [Fact]
    public async Task Delivery_IsSignedWithTheTenantSecret_AndCarriesTheJob()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var (client, _, secret) = await app.CreateTenantWithSecretAsync();

        var job = await client.SubmitJobAsync("noop", new { echo = "hello" }, new { callbackUrl = receiver.Url });

        var received = Assert.Single(await receiver.WaitForDeliveredAsync(1, TimeSpan.FromSeconds(30)));
        Assert.True(Verify(secret, received.Signature, received.Body, TimeSpan.FromMinutes(5)), $"signature {received.Signature} does not verify");
        Assert.False(Verify(secret, received.Signature, received.Body.Replace("hello", "hellO"), TimeSpan.FromMinutes(5)));
        Assert.False(Verify("whsec_other", received.Signature, received.Body, TimeSpan.FromMinutes(5)));
        Assert.StartsWith("application/json", received.ContentType);

        var e = received.Json;
        Assert.Equal("job.succeeded", e.GetProperty("type").GetString());
        Assert.Equal(received.EventId, e.GetProperty("id").GetString());
        Assert.True(e.GetProperty("occurredAt").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-5));
        var j = e.GetProperty("job");
        Assert.Equal(job.Id, j.GetProperty("id").GetGuid());
        Assert.Equal("noop", j.GetProperty("type").GetString());
        Assert.Equal("succeeded", j.GetProperty("state").GetString());
        Assert.Equal(1, j.GetProperty("attempt").GetInt32());
        Assert.Equal("hello", j.GetProperty("result").GetProperty("echo").GetString());

        // The delivery is a job of the tenant's, visible and succeeded.
        var deliveries = await client.GetFromJsonAsync<JobPageDto>("/v1/jobs?type=deliver_webhook", JobClientExtensions.Json);
        var delivery = Assert.Single(deliveries!.Items);
        Assert.Equal("succeeded", (await client.WaitForStateAsync(delivery.Id, "succeeded")).State);
    }

    [Fact]
    public async Task Delivery_ArrivesLater_WhenTheReceiverWasNotListening()
    {
        // The receiver is down: it drops every connection before answering, until told otherwise.
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Server.DropNext(times: int.MaxValue);
        var (client, _, secret) = await app.CreateTenantWithSecretAsync();
        var job = await client.SubmitJobAsync("noop", new { }, new { callbackUrl = receiver.Url });
        await client.WaitForStateAsync(job.Id, "succeeded");

        // The delivery fails while the receiver is down: wait until it has failed twice.
        var delivery = await WaitForDeliveryAsync(client, d => d.Attempts.Count(a => a.Outcome == "failed") >= 2, TimeSpan.FromSeconds(30));
        Assert.Equal("retrying", delivery.State);
        Assert.Contains("could not be reached", delivery.LastError);

        receiver.Server.ClearFaults(); // back up
        var received = Assert.Single(await receiver.WaitForDeliveredAsync(1, TimeSpan.FromSeconds(60)));
        Assert.True(Verify(secret, received.Signature, received.Body, TimeSpan.FromMinutes(5)));
        Assert.Equal(job.Id, received.Json.GetProperty("job").GetProperty("id").GetGuid());
        var done = await client.WaitForStateAsync(delivery.Id, "succeeded");
        Assert.True(done.Attempts.Count >= 3, $"{done.Attempts.Count} attempts");
    }

    [Fact]
    public async Task Delivery_IsRetried_WhileTheReceiverAnswers503_WithTheSameEventId()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Answer = n => n <= 2 ? 503 : 200;
        var (client, _, secret) = await app.CreateTenantWithSecretAsync();

        await client.SubmitJobAsync("noop", new { }, new { callbackUrl = receiver.Url });

        await receiver.WaitForDeliveredAsync(1, TimeSpan.FromSeconds(60));
        var requests = receiver.Requests.ToList();
        Assert.Equal([503, 503, 200], requests.Select(r => r.Status));
        Assert.Single(requests.Select(r => r.EventId).Distinct());
        Assert.All(requests, r => Assert.True(Verify(secret, r.Signature, r.Body, TimeSpan.FromMinutes(5))));
    }

    [Fact]
    public async Task Events_AreExactlyTheTerminalTransitions_OnePerJob()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var (client, _, _) = await app.CreateTenantWithSecretAsync();
        var hook = new { callbackUrl = receiver.Url };

        var succeeds = await client.SubmitJobAsync("noop", new { }, hook);
        var retriesThenSucceeds = await client.SubmitJobAsync("fail", new { failTimes = 2 }, new { callbackUrl = receiver.Url, maxAttempts = 5, backoffSeconds = 0.2 });
        var failsForGood = await client.SubmitJobAsync("fail", new { failTimes = 5 }, new { callbackUrl = receiver.Url, maxAttempts = 2, backoffSeconds = 0.2 });
        var failsAtOnce = await client.SubmitJobAsync("fail", new { failTimes = 1, retryable = false }, hook);
        var cancelledWaiting = await client.SubmitJobAsync("noop", new { }, new { callbackUrl = receiver.Url, delaySeconds = 600 });
        var cancelledRunning = await client.SubmitJobAsync("sleep", new { ms = 60_000 }, hook);
        var withoutCallback = await client.SubmitJobAsync("fail", new { failTimes = 1 }, new { backoffSeconds = 0.2 });

        await client.WaitForStateAsync(cancelledRunning.Id, "running");
        (await client.PostAsync($"/v1/jobs/{cancelledRunning.Id}/cancel", null)).EnsureSuccessStatusCode();
        (await client.PostAsync($"/v1/jobs/{cancelledWaiting.Id}/cancel", null)).EnsureSuccessStatusCode();
        await client.WaitForStateAsync(withoutCallback.Id, "succeeded");

        var expected = new Dictionary<Guid, string>
        {
            [succeeds.Id] = "job.succeeded",
            [retriesThenSucceeds.Id] = "job.succeeded",
            [failsForGood.Id] = "job.failed",
            [failsAtOnce.Id] = "job.failed",
            [cancelledWaiting.Id] = "job.cancelled",
            [cancelledRunning.Id] = "job.cancelled",
        };
        await receiver.WaitForDeliveredAsync(expected.Count, TimeSpan.FromSeconds(60));
        // Room for any event that should not come: a marker job ends after every transition above, so its event is
        // queued after any stray one; once the marker's event (sent to another path) has arrived, a stray one would have too.
        await client.SubmitJobAsync("noop", new { }, new { callbackUrl = receiver.Server.Url("/marker") });
        await receiver.Server.WaitForAsync(r => r.Path == "/marker" && r.Status is >= 200 and < 300, TimeSpan.FromSeconds(60), what: "marker event(s)");

        var events = receiver.Requests.Select(r => r.Json).ToList();
        var byJob = events.GroupBy(e => e.GetProperty("job").GetProperty("id").GetGuid()).ToDictionary(g => g.Key, g => g.ToList());
        Assert.Equal(expected.Keys.OrderBy(k => k), byJob.Keys.OrderBy(k => k));
        foreach (var (id, type) in expected)
        {
            var e = Assert.Single(byJob[id]);
            Assert.Equal(type, e.GetProperty("type").GetString());
        }
        Assert.Equal(3, byJob[retriesThenSucceeds.Id][0].GetProperty("job").GetProperty("attempt").GetInt32());
        Assert.Contains("Attempts exhausted", byJob[failsForGood.Id][0].GetProperty("job").GetProperty("error").GetString());
        Assert.Equal(events.Count, events.Select(e => e.GetProperty("id").GetString()).Distinct().Count());
    }

    [Fact]
    public async Task ClientRetry_OfAFailedJob_SendsAnEventForEachRun()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var (client, _, _) = await app.CreateTenantWithSecretAsync();
        var job = await client.SubmitJobAsync("fail", new { failTimes = 1, retryable = false }, new { callbackUrl = receiver.Url });
        await receiver.WaitForDeliveredAsync(1, TimeSpan.FromSeconds(30));

        (await client.PostAsync($"/v1/jobs/{job.Id}/retry", null)).EnsureSuccessStatusCode();

        // The new run fails again (the fail job fails its first attempt of every run): a second event, of its own.
        var events = (await receiver.WaitForDeliveredAsync(2, TimeSpan.FromSeconds(30))).Select(r => r.Json).ToList();
        Assert.Equal(["job.failed", "job.failed"], events.Select(e => e.GetProperty("type").GetString()));
        Assert.NotEqual(events[0].GetProperty("id").GetString(), events[1].GetProperty("id").GetString());
        Assert.All(events, e => Assert.Equal(job.Id, e.GetProperty("job").GetProperty("id").GetGuid()));
    }

    [Fact]
    public async Task RotatedSecret_SignsLaterDeliveries()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var (client, tenantId, oldSecret) = await app.CreateTenantWithSecretAsync();
        using var admin = app.CreateAdminClient();
        var rotated = await admin.PostJsonAsync<JsonElement>($"/v1/admin/tenants/{tenantId}/webhook-secret", new { });
        var newSecret = rotated.GetProperty("webhookSecret").GetString()!;
        Assert.NotEqual(oldSecret, newSecret);

        await client.SubmitJobAsync("noop", new { }, new { callbackUrl = receiver.Url });

        var received = Assert.Single(await receiver.WaitForDeliveredAsync(1, TimeSpan.FromSeconds(30)));
        Assert.True(Verify(newSecret, received.Signature, received.Body, TimeSpan.FromMinutes(5)));
        Assert.False(Verify(oldSecret, received.Signature, received.Body, TimeSpan.FromMinutes(5)));
    }

    [Fact]
    public async Task DatasetUpload_WithCallbackUrl_SendsTheParseJobsEvent()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var (client, _, secret) = await app.CreateTenantWithSecretAsync();
        using var form = new MultipartFormDataContent();
        form.Add(new StringContent("US"), "country");
        form.Add(new StringContent(receiver.Url), "callbackUrl");
        form.Add(new ByteArrayContent(Encoding.ASCII.GetBytes("Emma,F,100\r\nNoah,M,90\r\n")), "file", "yob2010.txt");

        using var response = await client.PostAsync("/v1/datasets", form);
        await JobClientExtensions.EnsureSuccessAsync(response);
        var jobId = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("jobId").GetGuid();

        var received = Assert.Single(await receiver.WaitForDeliveredAsync(1, TimeSpan.FromSeconds(60)));
        Assert.True(Verify(secret, received.Signature, received.Body, TimeSpan.FromMinutes(5)));
        Assert.Equal("job.succeeded", received.Json.GetProperty("type").GetString());
        Assert.Equal(jobId, received.Json.GetProperty("job").GetProperty("id").GetGuid());
        Assert.Equal("parse_dataset", received.Json.GetProperty("job").GetProperty("type").GetString());
    }

    [Fact]
    public async Task Transfer_WithCallbackUrl_SendsItsJobsSignedEvent()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var (client, tenantId, secret) = await app.CreateTenantWithSecretAsync();
        var upload = await client.UploadBytesAsync(Encoding.ASCII.GetBytes("a document"), "note.txt", "text/plain");

        var created = await client.PostJsonAsync<JsonElement>("/v1/transfers", new
        {
            source = new { type = "upload", uploadId = upload.Id },
            destination = new { type = "directory", path = $"hooks/{upload.Id}.txt" },
            callbackUrl = receiver.Url,
        });

        var received = Assert.Single(await receiver.WaitForDeliveredAsync(1, TimeSpan.FromSeconds(60)));
        Assert.True(Verify(secret, received.Signature, received.Body, TimeSpan.FromMinutes(5)));
        Assert.Equal("job.succeeded", received.Json.GetProperty("type").GetString());
        Assert.Equal(created.GetProperty("jobId").GetGuid(), received.Json.GetProperty("job").GetProperty("id").GetGuid());
        Assert.Equal("transfer_document", received.Json.GetProperty("job").GetProperty("type").GetString());
        Assert.Equal("a document", await File.ReadAllTextAsync(Path.Combine(app.DirectoryRoot, tenantId.ToString(), "hooks", $"{upload.Id}.txt")));
    }

    [Fact]
    public async Task Sync_WithCallbackUrl_SendsItsJobsSignedEvent()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var source = await SourceApi.StartAsync(count: 5, pageSize: 2);
        var (client, _, secret) = await app.CreateTenantWithSecretAsync();
        var body = JsonSerializer.SerializeToNode(SyncTestKit.Body(source, "cursor", "hooked"), JobClientExtensions.Json)!.AsObject();
        body["callbackUrl"] = receiver.Url;

        var created = await client.CreateSyncAsync(body);

        var received = Assert.Single(await receiver.WaitForDeliveredAsync(1, TimeSpan.FromSeconds(60)));
        Assert.True(Verify(secret, received.Signature, received.Body, TimeSpan.FromMinutes(5)));
        Assert.Equal("job.succeeded", received.Json.GetProperty("type").GetString());
        Assert.Equal(created.JobId, received.Json.GetProperty("job").GetProperty("id").GetGuid());
        Assert.Equal("sync_records", received.Json.GetProperty("job").GetProperty("type").GetString());
    }

    [Fact]
    public async Task HttpRequest_WithCallbackUrl_SendsItsEvent_WithoutTheEncryptedResult_AndKeepsNoPlainCopy()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var vendor = await WebhookReceiver.StartAsync(); // answers 200 to a POST on /hooks
        var (client, _, secret) = await app.CreateTenantWithSecretAsync();
        var job = await client.PostJsonAsync<JobDto>("/v1/jobs", new
        {
            type = "http_request",
            payload = new { method = "POST", url = vendor.Url, headers = new Dictionary<string, string> { ["Authorization"] = "Bearer vendor-secret-77" }, body = new { ssn = "123-45-6789" } },
            callbackUrl = receiver.Url,
        });

        var received = Assert.Single(await receiver.WaitForDeliveredAsync(1, TimeSpan.FromSeconds(60)));
        Assert.True(Verify(secret, received.Signature, received.Body, TimeSpan.FromMinutes(5)));
        Assert.Equal("job.succeeded", received.Json.GetProperty("type").GetString());
        Assert.Equal(job.Id, received.Json.GetProperty("job").GetProperty("id").GetGuid());
        Assert.Equal(JsonValueKind.Null, received.Json.GetProperty("job").GetProperty("result").ValueKind);
        Assert.DoesNotContain("enc:v1:", received.Body);
        Assert.DoesNotContain("vendor-secret-77", received.Body);
        // The owner still reads the vendor's answer through the API.
        var done = await client.GetFromJsonAsync<JsonElement>($"/v1/jobs/{job.Id}");
        Assert.Equal(200, done.GetProperty("result").GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task TransferAndSync_RejectAPrivateCallbackUrl_NamingIt()
    {
        await using var source = await SourceApi.StartAsync(count: 1, pageSize: 1);
        var client = await app.CreateTenantClientAsync();
        var upload = await client.UploadBytesAsync(Encoding.ASCII.GetBytes("x"), "x.txt", "text/plain");
        var syncBody = JsonSerializer.SerializeToNode(SyncTestKit.Body(source, "cursor", "refused"), JobClientExtensions.Json)!.AsObject();
        syncBody["callbackUrl"] = "http://10.0.0.7/hook";

        using var transfer = await client.PostAsJsonAsync("/v1/transfers", new
        {
            source = new { type = "upload", uploadId = upload.Id },
            destination = new { type = "directory", path = "refused.txt" },
            callbackUrl = "http://169.254.169.254/hook",
        });
        using var sync = await client.PostAsJsonAsync("/v1/syncs", syncBody);

        await AssertProblemAsync(transfer, "callbackUrl");
        await AssertProblemAsync(sync, "callbackUrl");
        Assert.False(File.Exists(Path.Combine(app.DirectoryRoot, "refused.txt")));
    }

    [Fact]
    public async Task DatasetUpload_RejectsAPrivateCallbackUrl()
    {
        var client = await app.CreateTenantClientAsync();
        using var form = new MultipartFormDataContent();
        form.Add(new StringContent("US"), "country");
        form.Add(new StringContent("http://192.168.1.10/hook"), "callbackUrl");
        form.Add(new ByteArrayContent(Encoding.ASCII.GetBytes("Emma,F,100\r\n")), "file", "yob2010.txt");

        using var response = await client.PostAsync("/v1/datasets", form);

        await AssertProblemAsync(response, "callbackUrl");
    }

    [Theory]
    [InlineData("ftp://example.com/hook")]
    [InlineData("/relative/hook")]
    [InlineData("http://169.254.169.254/latest/meta-data")]
    [InlineData("http://10.0.0.7/hook")]
    public async Task Submit_RejectsCallbackUrl_ThatIsNotAllowed(string url)
    {
        var client = await app.CreateTenantClientAsync();

        using var single = await client.PostAsJsonAsync("/v1/jobs", new { type = "noop", payload = new { }, callbackUrl = url });
        using var batch = await client.PostAsJsonAsync("/v1/jobs/batch", new { jobs = new[] { new { type = "noop", payload = new { }, callbackUrl = url } } });

        await AssertProblemAsync(single, "callbackUrl");
        await AssertProblemAsync(batch, "jobs[0].callbackUrl");
    }

    [Fact]
    public async Task Submit_RefusesTheInternalDeliveryType()
    {
        var client = await app.CreateTenantClientAsync();

        using var response = await client.PostAsJsonAsync("/v1/jobs",
            new { type = "deliver_webhook", payload = new { url = "http://127.0.0.1:1/", @event = new { } } });

        await AssertProblemAsync(response, "type");
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, string field)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(JsonDocument.Parse(body).RootElement.GetProperty("errors").TryGetProperty(field, out _), body);
    }

    private static async Task<JobDto> WaitForDeliveryAsync(HttpClient client, Func<JobDto, bool> condition, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var page = await client.GetFromJsonAsync<JobPageDto>("/v1/jobs?type=deliver_webhook", JobClientExtensions.Json);
            if (page!.Items.Count == 1)
            {
                var delivery = await client.GetJobAsync(page.Items[0].Id);
                if (condition(delivery)) return delivery;
            }
            if (clock.Elapsed > timeout) Assert.Fail($"The delivery did not reach the expected state within {timeout.TotalSeconds} s.");
            await Task.Delay(100);
        }
    }
}
