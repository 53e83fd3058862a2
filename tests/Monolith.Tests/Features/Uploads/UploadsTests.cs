using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Monolith.Tests.Features.Transfers;
using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Features.Uploads;

/// <summary>Documents stored through <c>POST /v1/uploads</c> (multipart or raw body), read back whole or by range, deleted.</summary>
public sealed class UploadsTests(TransfersFactory app) : IClassFixture<TransfersFactory>
{
    [Fact]
    public async Task MultipartUpload_IsStored_WithSizeSha256ContentTypeAndName()
    {
        var client = await app.CreateTenantClientAsync();
        var content = RandomNumberGenerator.GetBytes(300_000);
        using var form = new MultipartFormDataContent();
        form.Add(new StringContent("ignored"), "note");
        var file = new ByteArrayContent(content);
        file.Headers.ContentType = MediaTypeHeaderValue.Parse("image/png");
        form.Add(file, "file", "scan.png");

        using var response = await client.PostAsync("/v1/uploads", form);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var upload = (await response.Content.ReadFromJsonAsync<UploadDto>(JobClientExtensions.Json))!;
        Assert.Equal(("scan.png", "image/png", 300_000L, Convert.ToHexStringLower(SHA256.HashData(content))),
            (upload.FileName, upload.ContentType, upload.SizeBytes, upload.Sha256));
        var read = await client.GetFromJsonAsync<UploadDto>($"/v1/uploads/{upload.Id}", JobClientExtensions.Json);
        Assert.Equal(upload with { CreatedAt = default }, read! with { CreatedAt = default });
        Assert.Equal(content, await client.GetByteArrayAsync($"/v1/uploads/{upload.Id}/content"));
    }

    [Fact]
    public async Task RawBodyUpload_KeepsItsContentType_AndTakesItsNameFromContentDisposition()
    {
        var client = await app.CreateTenantClientAsync();
        var content = RandomNumberGenerator.GetBytes(1000);
        using var body = new ByteArrayContent(content);
        body.Headers.ContentType = MediaTypeHeaderValue.Parse("application/pdf");
        body.Headers.ContentDisposition = new ContentDispositionHeaderValue("attachment") { FileName = "letter.pdf" };

        using var response = await client.PostAsync("/v1/uploads", body);

        var upload = (await response.Content.ReadFromJsonAsync<UploadDto>(JobClientExtensions.Json))!;
        Assert.Equal(("letter.pdf", "application/pdf", 1000L), (upload.FileName, upload.ContentType, upload.SizeBytes));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(content)), upload.Sha256);
    }

    [Fact]
    public async Task Content_AnswersARangeRequestWith206AndThoseBytes()
    {
        var client = await app.CreateTenantClientAsync();
        var content = RandomNumberGenerator.GetBytes(100_000);
        var upload = await client.UploadBytesAsync(content);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/uploads/{upload.Id}/content");
        request.Headers.Range = new RangeHeaderValue(1000, 1999);

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal(content[1000..2000], await response.Content.ReadAsByteArrayAsync());
        Assert.Equal("bytes 1000-1999/100000", response.Content.Headers.ContentRange!.ToString());
        Assert.Equal("application/pdf", response.Content.Headers.ContentType!.MediaType);
    }

    [Theory]
    [InlineData("items=0-1")]
    [InlineData("pages=1000-1999")]
    public async Task Content_IgnoresARangeOfAnotherUnitThanBytes_AndAnswersTheWholeBody(string range)
    {
        var client = await app.CreateTenantClientAsync();
        var content = RandomNumberGenerator.GetBytes(10_000);
        var upload = await client.UploadBytesAsync(content);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/uploads/{upload.Id}/content");
        request.Headers.TryAddWithoutValidation("Range", range);

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode); // RFC 9110 14.2: a range unit the server does not know is ignored
        Assert.Equal(content, await response.Content.ReadAsByteArrayAsync());
        Assert.Null(response.Content.Headers.ContentRange);
    }

    [Fact]
    public async Task UploadPastTheLimit_Is413_AndKeepsNothing()
    {
        var client = await app.CreateTenantClientAsync();
        var before = app.StoredFiles().Length;
        using var body = new StreamContent(new MemoryStream(new byte[TransfersFactory.MaxUploadBytes + 1]));

        using var response = await client.PostAsync("/v1/uploads?filename=big.bin", body);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal(before, app.StoredFiles().Length);
    }

    [Fact]
    public async Task Delete_RemovesTheUploadAndItsFile_ButIsRefusedWhileATransferWaitsOnIt()
    {
        var client = await app.CreateTenantClientAsync();
        var upload = await client.UploadBytesAsync(RandomNumberGenerator.GetBytes(100));
        using var admin = app.CreateAdminClient();
        // A transfer waiting for a worker: its queue is paused while the delete is tried.
        (await admin.PostAsync("/v1/queues/default/pause", null)).EnsureSuccessStatusCode();
        try
        {
            var created = await client.CreateTransferAsync(new
            {
                source = new { type = "upload", uploadId = upload.Id },
                destination = new { type = "directory", path = $"wait-{Guid.NewGuid():N}.bin" },
            });
            using var busy = await client.DeleteAsync($"/v1/uploads/{upload.Id}");
            Assert.Equal(HttpStatusCode.Conflict, busy.StatusCode);
            Assert.Equal("application/problem+json", busy.Content.Headers.ContentType!.MediaType);
            (await client.PostAsync($"/v1/transfers/{created.Id}/cancel", null)).EnsureSuccessStatusCode();
        }
        finally
        {
            (await admin.PostAsync("/v1/queues/default/resume", null)).EnsureSuccessStatusCode();
        }

        using var deleted = await client.DeleteAsync($"/v1/uploads/{upload.Id}");

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/v1/uploads/{upload.Id}")).StatusCode);
        Assert.DoesNotContain(app.StoredFiles(), f => f.EndsWith(upload.Id.ToString(), StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnotherTenantsUpload_IsNotFound()
    {
        var owner = await app.CreateTenantClientAsync();
        var other = await app.CreateTenantClientAsync();
        var upload = await owner.UploadBytesAsync([1, 2, 3]);

        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync($"/v1/uploads/{upload.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync($"/v1/uploads/{upload.Id}/content")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.DeleteAsync($"/v1/uploads/{upload.Id}")).StatusCode);
    }

    [Fact]
    public async Task Swagger_DescribesTheUploadAndTransferEndpoints()
    {
        using var client = app.CreateClient();

        var paths = System.Text.Json.JsonDocument.Parse(await client.GetStringAsync("/swagger/v1/swagger.json")).RootElement.GetProperty("paths");

        foreach (var path in new[] { "/v1/uploads", "/v1/uploads/{id}", "/v1/uploads/{id}/content", "/v1/transfers", "/v1/transfers/{id}",
                     "/v1/transfers/{id}/cancel", "/v1/transfers/{id}/retry" })
        {
            Assert.True(paths.TryGetProperty(path, out _), $"{path} is missing from swagger.json");
        }
    }
}
