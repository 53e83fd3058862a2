using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Monolith.Tests.Dashboard;
using Monolith.Tests.Features.Transfers;
using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Features.HttpRequests;

/// <summary>
/// Client-encrypted documents sent to a vendor on 127.0.0.1 (<c>http_request</c> with <c>documents</c>): the test does
/// the browser's part (AES-256-GCM, <see cref="BrowserEncryption"/>) and uploads the cipher text; the vendor must get
/// the plain bytes exactly, as a multipart part or a base64 JSON value; a wrong key or a changed cipher text fails the
/// job at once with nothing sent; the key and IV are in no row, log line or answer.
/// </summary>
public sealed class EncryptedDocumentTests(EncryptedDocumentsFactory app) : IClassFixture<EncryptedDocumentsFactory>
{
    // Several 80 KiB chunks and a last block shorter than 16 bytes.
    private const int ScanBytes = 300_007;

    [Fact]
    public async Task Multipart_TheVendorGetsThePlainBytes_WithTheBodysFieldsAsFormFields()
    {
        await using var vendor = await LoopbackServer.StartAsync();
        var client = await app.CreateTenantClientAsync();
        var scan = BrowserEncryption.OfRandom(ScanBytes);
        var upload = await scan.UploadAsync(client);

        var job = await client.SubmitJobAsync("http_request",
            Call(vendor, new { applicant = "A-42", side = "front" }, scan.Document(upload, "multipart", "image", "front.jpg", "image/jpeg")));
        await client.WaitForStateAsync(job.Id, "succeeded");

        var received = Assert.Single(vendor.Requests);
        Assert.True(received.Complete);
        var file = received.File!;
        Assert.Equal(("image", "front.jpg", "image/jpeg"), (file.Field, file.FileName, file.ContentType));
        Assert.Equal(scan.Plain.Length, file.Length);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(scan.Plain)), file.Sha256); // byte for byte
        Assert.Equal("A-42", received.Form["applicant"]);
        Assert.Equal("front", received.Form["side"]);
        Assert.True(received.Headers.ContainsKey("Content-Length"), "The length is known in advance: no chunked body.");
    }

    [Fact]
    public async Task Base64_TheVendorGetsEachDocumentsPlainBytes_AtItsPathInTheJsonBody()
    {
        await using var vendor = await LoopbackServer.StartAsync();
        var client = await app.CreateTenantClientAsync();
        var front = BrowserEncryption.OfRandom(ScanBytes);
        var back = BrowserEncryption.OfRandom(1); // one byte: one partial block
        var frontId = await front.UploadAsync(client);
        var backId = await back.UploadAsync(client, "id-back.jpg.enc");

        var job = await client.SubmitJobAsync("http_request", Call(vendor,
            new { applicant = new { name = "Ada", ssn = "078-05-1120" }, images = new { front = (string?)null } },
            front.Document(frontId, "base64", "images.front"), back.Document(backId, "base64", "$.images.back")) with { Sensitive = ["applicant.ssn"] });
        await client.WaitForStateAsync(job.Id, "succeeded");

        var received = Assert.Single(vendor.Requests);
        Assert.True(received.Complete);
        Assert.StartsWith("application/json", received.Header("Content-Type"));
        var sent = received.Json;
        Assert.Equal(front.Plain, Convert.FromBase64String(sent.GetProperty("images").GetProperty("front").GetString()!));
        Assert.Equal(back.Plain, Convert.FromBase64String(sent.GetProperty("images").GetProperty("back").GetString()!));
        Assert.Equal("078-05-1120", sent.GetProperty("applicant").GetProperty("ssn").GetString());
        Assert.Equal("Ada", sent.GetProperty("applicant").GetProperty("name").GetString());
    }

    [Fact]
    public async Task AWrongKey_FailsTheJobAtOnce_WithNothingSentToTheVendor()
    {
        await using var vendor = await LoopbackServer.StartAsync();
        var client = await app.CreateTenantClientAsync();
        var scan = BrowserEncryption.OfRandom(ScanBytes);
        var upload = await scan.UploadAsync(client);
        var wrong = scan with { Key = RandomNumberGenerator.GetBytes(32) };

        var failed = await SubmitAndFailAsync(client, vendor, wrong.Document(upload, "multipart", "image"));

        Assert.Contains($"Document 0 (upload {upload}) cannot be decrypted", failed.LastError);
        Assert.Contains("tag does not match", failed.LastError);
        Assert.Empty(vendor.Requests);
    }

    [Theory]
    [InlineData(0)] // the first byte of the cipher text
    [InlineData(ScanBytes / 2)]
    [InlineData(ScanBytes + 15)] // the tag's last byte
    public async Task AFlippedCipherByte_FailsTheJobAtOnce_WithNothingSentToTheVendor(int index)
    {
        await using var vendor = await LoopbackServer.StartAsync();
        var client = await app.CreateTenantClientAsync();
        var scan = BrowserEncryption.OfRandom(ScanBytes);
        var tampered = scan.Cipher.ToArray();
        tampered[index] ^= 0x01;
        var upload = (await client.UploadBytesAsync(tampered, "id-front.jpg.enc", "application/octet-stream")).Id;

        var failed = await SubmitAndFailAsync(client, vendor, scan.Document(upload, "base64", "image"), body: new { image = "" });

        Assert.Contains("cannot be decrypted", failed.LastError);
        Assert.Contains("Nothing was sent to the vendor", failed.LastError);
        Assert.Empty(vendor.Requests);
    }

    /// <summary>A vendor call's payload: a POST of <paramref name="body"/> and <paramref name="documents"/>.</summary>
    private static CallPayload Call(LoopbackServer vendor, object? body, params object[] documents) => new("POST", vendor.Url("/scan"), body, documents);

    private sealed record CallPayload(string Method, string Url, object? Body, object[] Documents, string[]? Sensitive = null);

    /// <summary>Submits a call with <paramref name="document"/> allowing 5 attempts; it must fail on the first.</summary>
    private static async Task<JobDto> SubmitAndFailAsync(HttpClient client, LoopbackServer vendor, object document, object? body = null)
    {
        var job = await client.SubmitJobAsync("http_request", Call(vendor, body, document), new { maxAttempts = 5, backoffSeconds = 0 });
        var failed = await client.WaitForStateAsync(job.Id, "failed");
        Assert.Equal(1, failed.Attempt); // not retried
        Assert.Single(failed.Attempts);
        return failed;
    }

    [Fact]
    public async Task TheKeyAndIv_AreInNoRow_NoLogLine_AndNoAnswer()
    {
        await using var vendor = await LoopbackServer.StartAsync();
        var client = await app.CreateTenantClientAsync();
        var scan = BrowserEncryption.OfRandom(ScanBytes);
        var upload = await scan.UploadAsync(client);

        var job = await client.SubmitJobAsync("http_request", Call(vendor, null, scan.Document(upload, "multipart", "image")));
        await client.WaitForStateAsync(job.Id, "succeeded");
        Assert.Single(vendor.Requests);

        var dump = await app.DumpDatabaseAsync();
        Assert.Contains(job.Id.ToString(), dump); // the dump does hold this job's row
        var stored = JsonDocument.Parse((await app.ReadColumnAsync(job.Id, "payload"))!).RootElement.GetProperty("documents")[0];
        Assert.StartsWith("enc:v1:", stored.GetProperty("key").GetString());
        Assert.StartsWith("enc:v1:", stored.GetProperty("iv").GetString());
        var logs = app.Logs.All;
        Assert.Contains(job.Id.ToString(), logs); // the capture did see this job's lines
        var answer = await client.GetStringAsync($"/v1/jobs/{job.Id}");
        var listing = await client.GetStringAsync("/v1/jobs?type=http_request");
        using var dashboard = await DashboardLogin.LoginAsync(app);
        var page = await dashboard.GetStringAsync($"/dashboard/jobs/{job.Id}");
        Assert.Contains(upload.ToString(), page); // the page does show the payload, masked
        foreach (var secret in scan.Secrets)
        {
            Assert.DoesNotContain(secret, dump);
            Assert.DoesNotContain(secret, logs);
            Assert.DoesNotContain(secret, answer);
            Assert.DoesNotContain(secret, listing);
            Assert.DoesNotContain(secret, page);
        }
    }

    [Theory]
    [InlineData("""{"key":"c2hvcnQ="}""", "payload.documents[0].key")]
    [InlineData("""{"iv":"AAAAAAAAAAAAAAAAAAAAAA=="}""", "payload.documents[0].iv")]
    [InlineData("""{"as":"zip"}""", "payload.documents[0].as")]
    [InlineData("""{"field":"a\"b"}""", "payload.documents[0].field")]
    [InlineData("""{"uploadId":null}""", "payload.documents[0].uploadId")]
    [InlineData("""{"contentType":"not a type"}""", "payload.documents[0].contentType")]
    [InlineData("""{"as":"base64","field":"missing.parent"}""", "payload.documents[0].field")]
    [InlineData("""{"as":"base64","field":"ssn"}""", "payload.documents[0].field")] // a sensitive path
    public async Task ABadDocument_IsA400NamingItsField(string change, string field)
    {
        var client = await app.CreateTenantClientAsync();
        var document = JsonSerializer.SerializeToNode(new
        {
            uploadId = Guid.NewGuid(),
            key = Convert.ToBase64String(new byte[32]),
            iv = Convert.ToBase64String(new byte[12]),
            @as = "multipart",
            field = "image",
        })!.AsObject();
        foreach (var (name, value) in JsonNode(change)) document[name] = value?.DeepClone();
        if (document["as"]!.GetValue<string>() == "base64") document.Remove("contentType");

        var problem = await SubmitExpecting400Async(client, new
        {
            method = "POST",
            url = "http://127.0.0.1/scan",
            body = new { ssn = "078-05-1120" },
            sensitive = new[] { "ssn" },
            documents = new[] { document },
        });

        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"No error for {field}: {problem}");
    }

    [Fact]
    public async Task AnUploadOfAnotherTenant_IsA400NamingTheDocument_SingleAndInABatch()
    {
        var owner = await app.CreateTenantClientAsync();
        var other = await app.CreateTenantClientAsync();
        var scan = BrowserEncryption.OfRandom(64);
        var upload = await scan.UploadAsync(owner);
        var payload = new { method = "POST", url = "http://127.0.0.1/scan", documents = new[] { scan.Document(upload, "multipart", "image") } };

        var single = await SubmitExpecting400Async(other, payload);
        using var batch = await other.PostAsJsonAsync("/v1/jobs/batch", new
        {
            jobs = new object[] { new { type = "noop", payload = new { } }, new { type = "http_request", payload } },
        });

        Assert.Contains(upload.ToString(), single.GetProperty("errors").GetProperty("payload.documents[0].uploadId")[0].GetString());
        Assert.Equal(HttpStatusCode.BadRequest, batch.StatusCode);
        var problem = await batch.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(problem.GetProperty("errors").TryGetProperty("jobs[1].payload.documents[0].uploadId", out _), problem.ToString());
        Assert.Empty(JsonDocument.Parse(await other.GetStringAsync("/v1/jobs")).RootElement.GetProperty("items").EnumerateArray()); // nothing stored
    }

    private static System.Text.Json.Nodes.JsonObject JsonNode(string json) => System.Text.Json.Nodes.JsonNode.Parse(json)!.AsObject();

    private static async Task<JsonElement> SubmitExpecting400Async(HttpClient client, object payload)
    {
        using var response = await client.PostAsJsonAsync("/v1/jobs", new { type = "http_request", payload });
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, problem.ToString());
        return problem;
    }
}
