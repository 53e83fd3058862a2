using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using Monolith.Tests.Features.Transfers;
using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Features.Uploads;

/// <summary>
/// A pre-signed upload is asked for with <c>?presigned=true</c>, never guessed from the body: a JSON document sent
/// without a name is stored like any other, and the local store, which clients cannot write to, refuses pre-signing.
/// </summary>
public sealed class UploadModeTests(TransfersFactory app) : IClassFixture<TransfersFactory>
{
    [Fact]
    public async Task AJsonDocumentWithoutAName_IsStored_NotTakenForAPresignedRequest()
    {
        var client = await app.CreateTenantClientAsync();
        var json = """{"fileName":"a.pdf","sizeBytes":10,"sha256":"00","contentType":"application/pdf"}""";

        using var response = await client.PostAsync("/v1/uploads", new StringContent(json, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var upload = (await response.Content.ReadFromJsonAsync<UploadDto>(JobClientExtensions.Json))!;
        Assert.Equal((Encoding.UTF8.GetByteCount(json), Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(json)))),
            (upload.SizeBytes, upload.Sha256));
    }

    [Fact]
    public async Task PresignedOnTheLocalStore_Is409_SayingWhatItNeeds()
    {
        var client = await app.CreateTenantClientAsync();

        using var response = await client.PostAsJsonAsync("/v1/uploads?presigned=true",
            new { fileName = "a.pdf", sizeBytes = 10, sha256 = new string('0', 64), contentType = "application/pdf" });

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains("Pre-signed uploads need Storage:Kind S3.", await response.Content.ReadAsStringAsync());
    }
}
