using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Monolith.Tests.Features.Transfers;
using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Security;

/// <summary>
/// What a hostile or careless client sends at the boundary: text PostgreSQL cannot store (NUL, lone surrogates,
/// invalid UTF-8) in any JSON string, property name, query or route value, cursor, multipart field or file name; a
/// JSON body in a charset the service does not read; a multipart body cut short. Each is a 4xx problem naming the
/// field as the client wrote it, never a 500, and nothing is kept (no row, no file).
/// </summary>
public sealed class HostileInputTests(TransfersFactory app) : IClassFixture<TransfersFactory>
{
    private static readonly Guid SomeId = Guid.Parse("0195f0f0-0000-7000-8000-000000000001");

    /// <summary>The JSON string "a", NUL, "b" as a client escapes it.</summary>
    private const string Nul = "a\\u0000b";

    private static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain("   at ", body);
        return JsonDocument.Parse(body).RootElement;
    }

    /// <summary>A 400 whose errors name exactly <paramref name="field"/>, saying its text cannot be stored.</summary>
    private static async Task AssertUnstorableAsync(HttpResponseMessage response, string field)
    {
        var problem = await ProblemAsync(response, HttpStatusCode.BadRequest);
        var errors = problem.GetProperty("errors").EnumerateObject().ToDictionary(p => p.Name, p => p.Value[0].GetString()!);
        Assert.True(errors.ContainsKey(field), $"expected '{field}' among {string.Join(", ", errors.Keys)}: {problem}");
        Assert.Contains("cannot be stored", errors[field]);
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private async Task<HttpClient> TenantAsync() => await app.CreateTenantClientAsync();

    private async Task<int> JobCountAsync()
    {
        await using var db = app.CreateDbContext();
        return await db.Jobs.CountAsync();
    }

    private async Task<int> DatasetCountAsync()
    {
        await using var db = app.CreateDbContext();
        return await db.Datasets.CountAsync();
    }

    public static TheoryData<string, string, string> BadJsonBodies => new()
    {
        // url, body, the field the 400 names
        { "/v1/jobs", $$$"""{"type":"noop","payload":{"echo":"{{{Nul}}}"}}""", "payload.echo" },
        { "/v1/jobs", """{"type":"noop","payload":{"echo":"\ud800"}}""", "payload.echo" },
        { "/v1/jobs", """{"type":"noop","payload":{"echo":["ok","x\udc00"]}}""", "payload.echo[1]" },
        { "/v1/jobs", $$$$"""{"type":"noop","payload":{"nested":{"{{{{Nul}}}}":1}}}""", "payload.nested.a\uFFFDb" },
        { "/v1/jobs", $$$"""{"type":"{{{Nul}}}","payload":{}}""", "type" },
        { "/v1/jobs", """{"type":"noop","payload":{},"queue":"\ud800"}""", "queue" },
        { "/v1/jobs", $$$"""{"type":"noop","payload":{},"callbackUrl":"http://example.com/{{{Nul}}}"}""", "callbackUrl" },
        { "/v1/jobs/batch", $$$"""{"jobs":[{"type":"noop","payload":{}},{"type":"noop","payload":{"echo":"{{{Nul}}}"}}]}""", "jobs[1].payload.echo" },
        { "/v1/transfers", $$$"""{"source":{"type":"upload","uploadId":"{{{SomeId}}}"},"destination":{"type":"http","url":"http://127.0.0.1:1/in","method":"POST"},"metadata":{"caseNumber":"{{{Nul}}}"}}""", "metadata.caseNumber" },
        { "/v1/transfers", $$$$"""{"source":{"type":"upload","uploadId":"{{{{SomeId}}}}"},"destination":{"type":"http","url":"http://127.0.0.1:1/in","method":"POST","form":{"kind":"{{{{Nul}}}}"}}}""", "destination.form.kind" },
        { "/v1/transfers", $$$"""{"source":{"type":"upload","uploadId":"{{{SomeId}}}"},"destination":{"type":"http","url":"http://127.0.0.1:1/in","method":"PO{{{Nul}}}ST"}}""", "destination.method" },
        { "/v1/transfers", $$$"""{"source":{"type":"url","url":"http://127.0.0.1:1/doc","headers":{"Authorization":"{{{Nul}}}"}},"destination":{"type":"directory","path":"a.pdf"}}""", "source.headers.Authorization" },
        { "/v1/transfers", $$$"""{"source":{"type":"upload","uploadId":"{{{SomeId}}}"},"destination":{"type":"directory","path":"{{{Nul}}}.pdf"}}""", "destination.path" },
        { "/v1/syncs", $$$"""{"snapshot":"{{{Nul}}}","source":{"url":"http://127.0.0.1:1/r","pagination":{"type":"page"},"idPath":"id"}}""", "snapshot" },
        { "/v1/syncs", $$$"""{"snapshot":"s","source":{"url":"http://127.0.0.1:1/r","pagination":{"type":"page"},"idPath":"{{{Nul}}}"}}""", "source.idPath" },
    };

    [Theory]
    [MemberData(nameof(BadJsonBodies))]
    public async Task UnstorableTextInAJsonBody_Is400NamingTheField_AndStoresNothing(string url, string body, string field)
    {
        var client = await TenantAsync();
        var jobsBefore = await JobCountAsync();

        using var response = await client.PostAsync(url, Json(body));

        await AssertUnstorableAsync(response, field);
        Assert.Equal(jobsBefore, await JobCountAsync());
    }

    [Fact]
    public async Task InvalidUtf8InAJsonBody_Is400NamingTheField()
    {
        var client = await TenantAsync();
        byte[] bytes = [.. Encoding.UTF8.GetBytes("""{"type":"noop","payload":{"echo":"a"""), 0xFF, .. Encoding.UTF8.GetBytes("""b"}}""")];
        using var content = new ByteArrayContent(bytes); // 0xFF is never UTF-8
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        using var response = await client.PostAsync("/v1/jobs", content);

        await AssertUnstorableAsync(response, "payload.echo");
    }

    [Fact]
    public async Task UnstorableTenantAndKeyNames_Are400NamingTheField()
    {
        using var admin = app.CreateAdminClient();
        using var tenant = await admin.PostAsync("/v1/admin/tenants", Json($$$"""{"name":"{{{Nul}}}"}"""));
        await AssertUnstorableAsync(tenant, "name");

        var created = await admin.PostJsonAsync<MonolithFactory.CreatedTenant>("/v1/admin/tenants", new { name = "fine" });
        using var key = await admin.PostAsync($"/v1/admin/tenants/{created.Tenant.Id}/keys", Json("""{"name":"\udfff"}"""));
        await AssertUnstorableAsync(key, "name");
    }

    [Theory]
    [InlineData("/v1/jobs?type=%00", "type")]
    [InlineData("/v1/jobs?queue=a%00", "queue")]
    [InlineData("/v1/jobs?state=%00", "state")]
    [InlineData("/v1/syncs?snapshot=%00", "snapshot")]
    [InlineData("/v1/snapshots/people/records?filter=a:%00", "filter")]
    [InlineData("/v1/snapshots/people/records?filter=a:%22%5Cu0000%22", "filter")] // a:"\u0000", the JSON string
    [InlineData("/v1/snapshots/people/records?filter=a:%22%5Cud800%22", "filter")]
    [InlineData("/v1/snapshots/people/records?filter=ok:1&filter=%00:1", "filter")]
    [InlineData("/v1/names/top?country=US&year=2020&sex=%00", "sex")]
    [InlineData("/v1/datasets?country=%00", "country")]
    public async Task UnstorableTextInTheQuery_Is400NamingTheParameter(string url, string field)
    {
        var client = await TenantAsync();

        using var response = await client.GetAsync(url);

        await AssertUnstorableAsync(response, field);
    }

    [Fact]
    public async Task UnstorableFileNameInTheQuery_Is400_AndKeepsNothing()
    {
        var client = await TenantAsync();
        var before = app.StoredFiles().Length;

        using var response = await client.PostAsync("/v1/uploads?filename=a%00b", new ByteArrayContent([1, 2, 3]));

        await AssertUnstorableAsync(response, "filename");
        Assert.Equal(before, app.StoredFiles().Length);
    }

    [Theory]
    [InlineData(new byte[] { 0 })]                 // decodes to NUL
    [InlineData(new byte[] { (byte)'a', 0, (byte)'b' })]
    [InlineData(new byte[] { 0xFF, 0xFE, 0x80 })]  // decodes to no UTF-8 at all
    public async Task ACursorThatDecodesToUnstorableOrGarbageText_Is400NamingCursor(byte[] decoded)
    {
        var client = await TenantAsync();

        using var response = await client.GetAsync($"/v1/snapshots/people/records?cursor={WebEncoders.Base64UrlEncode(decoded)}");

        var problem = await ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("cursor", out _), problem.ToString());
    }

    /// <summary>A multipart/form-data body written byte for byte (so names and values hold exactly what a client sends).</summary>
    private static ByteArrayContent Multipart(string boundary, string body)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body.ReplaceLineEndings("\r\n")));
        content.Headers.ContentType = MediaTypeHeaderValue.Parse($"multipart/form-data; boundary={boundary}");
        return content;
    }

    private static string Field(string boundary, string name, string value) =>
        $"--{boundary}\nContent-Disposition: form-data; name=\"{name}\"\n\n{value}\n";

    private static string FilePart(string boundary, string disposition, string content) =>
        $"--{boundary}\nContent-Disposition: form-data; name=\"file\"; {disposition}\nContent-Type: text/plain\n\n{content}\n";

    [Theory]
    [InlineData("country", "U\0S", "filename=\"yob2020.txt\"")]
    [InlineData("callbackUrl", "http://example.com/\0", "filename=\"yob2020.txt\"")]
    [InlineData("file", "US", "filename*=UTF-8''yob2020%00.txt")]
    public async Task UnstorableMultipartFieldOrFileName_OnADataset_Is400NamingIt_AndKeepsNothing(string field, string country, string disposition)
    {
        var client = await TenantAsync();
        var before = app.StoredFiles().Length;
        var datasetsBefore = await DatasetCountAsync();
        const string b = "b0undary";
        var callback = field == "callbackUrl" ? Field(b, "callbackUrl", country) : "";
        var body = Field(b, "country", field == "callbackUrl" ? "US" : country) + callback
                   + FilePart(b, disposition, "Ada,F,10\nBob,M,9") + $"--{b}--\n";

        using var response = await client.PostAsync("/v1/datasets", Multipart(b, body));

        await AssertUnstorableAsync(response, field);
        Assert.Equal(before, app.StoredFiles().Length);
        Assert.Equal(datasetsBefore, await DatasetCountAsync());
    }

    [Fact]
    public async Task UnstorableMultipartFileName_OnAnUpload_Is400_AndKeepsNothing()
    {
        var client = await TenantAsync();
        var before = app.StoredFiles().Length;
        const string b = "b0undary";

        using var response = await client.PostAsync("/v1/uploads",
            Multipart(b, FilePart(b, "filename*=UTF-8''scan%00.pdf", "%PDF-1.7") + $"--{b}--\n"));

        await AssertUnstorableAsync(response, "filename");
        Assert.Equal(before, app.StoredFiles().Length);
    }

    [Fact]
    public async Task UnstorableContentTypeOfARawUpload_Is400NamingIt_AndKeepsNothing()
    {
        var client = await TenantAsync();
        var before = app.StoredFiles().Length;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/uploads?filename=scan.pdf") { Content = new ByteArrayContent("%PDF-1.7"u8.ToArray()) };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/pdf; x=a\0b");

        using var response = await client.SendAsync(request);

        await AssertUnstorableAsync(response, "Content-Type");
        Assert.Equal(before, app.StoredFiles().Length);
    }

    [Fact]
    public async Task UnstorableIdempotencyKey_Is400NamingIt_AndStoresNothing()
    {
        var client = await TenantAsync();
        var before = await JobCountAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/jobs") { Content = Json("""{"type":"noop","payload":{}}""") };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", "order\0-42");

        using var response = await client.SendAsync(request);

        await AssertUnstorableAsync(response, "Idempotency-Key");
        Assert.Equal(before, await JobCountAsync());
    }

    public static TheoryData<string, string> JsonEndpoints => new()
    {
        { "/v1/jobs", """{"type":"noop","payload":{}}""" },
        { "/v1/jobs/batch", """{"jobs":[{"type":"noop","payload":{}}]}""" },
        { "/v1/transfers", """{"source":{"type":"url","url":"http://127.0.0.1:1/d"},"destination":{"type":"directory","path":"d.pdf"}}""" },
        { "/v1/syncs", """{"snapshot":"s","source":{"url":"http://127.0.0.1:1/r","pagination":{"type":"page"},"idPath":"id"}}""" },
        { "/v1/admin/tenants", """{"name":"charset"}""" },
    };

    [Theory]
    [MemberData(nameof(JsonEndpoints))]
    public async Task AJsonBodyInAnUnsupportedCharset_Is415NamingContentType(string url, string json)
    {
        using var client = app.CreateAdminClient();
        // (Another media type, text/plain, is routing's own 415: no endpoint accepts it.)
        foreach (var contentType in new[] { "application/json; charset=bogus", "application/json; charset=utf-16", "application/problem+json; charset=latin1", null })
        {
            using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(json));
            if (contentType is not null) content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            var jobsBefore = await JobCountAsync();

            using var response = await client.PostAsync(url, content);

            var problem = await ProblemAsync(response, HttpStatusCode.UnsupportedMediaType);
            Assert.True(problem.TryGetProperty("errors", out var errors) && errors.TryGetProperty("Content-Type", out _), $"{contentType}: {problem}");
            Assert.Equal(jobsBefore, await JobCountAsync());
        }

        // UTF-8 said out loud is what JSON is (RFC 8259): still accepted.
        using var utf8 = new ByteArrayContent(Encoding.UTF8.GetBytes(json));
        utf8.Headers.TryAddWithoutValidation("Content-Type", "application/json; charset=\"UTF-8\"");
        using var accepted = await client.PostAsync(url, utf8);
        Assert.True((int)accepted.StatusCode is >= 200 and < 300, await accepted.Content.ReadAsStringAsync());
    }

    public static TheoryData<string, string> TruncatedBodies
    {
        get
        {
            const string b = "b0undary";
            var country = Field(b, "country", "US");
            var file = FilePart(b, "filename=\"yob2020.txt\"", string.Join('\n', Enumerable.Repeat("Ada,F,10", 2000)));
            return new()
            {
                // cut inside the file's bytes; cut after the file, before the closing boundary; only a part's headers
                { "/v1/datasets", country + file[..(file.Length / 2)] },
                { "/v1/datasets", country + file },
                { "/v1/datasets", country + $"--{b}\nContent-Disposition: form-da" },
                { "/v1/uploads", file[..(file.Length / 2)] },
                { "/v1/uploads", file + Field(b, "note", "cut") },
            };
        }
    }

    [Theory]
    [MemberData(nameof(TruncatedBodies))]
    public async Task ATruncatedMultipartBody_Is400NamingBody_AndKeepsNothing(string url, string body)
    {
        var client = await TenantAsync();
        var before = app.StoredFiles().Length;
        var datasetsBefore = await DatasetCountAsync();
        int uploadsBefore;
        await using (var db = app.CreateDbContext()) uploadsBefore = await db.Uploads.CountAsync();

        using var response = await client.PostAsync(url, Multipart("b0undary", body));

        var problem = await ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("body", out _), problem.ToString());
        Assert.Equal(before, app.StoredFiles().Length);
        Assert.Equal(datasetsBefore, await DatasetCountAsync());
        await using (var db = app.CreateDbContext()) Assert.Equal(uploadsBefore, await db.Uploads.CountAsync());
    }
}
