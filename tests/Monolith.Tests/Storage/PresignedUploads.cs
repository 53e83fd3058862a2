using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Storage;

/// <summary>The pre-signed PUT of <c>POST /v1/uploads?presigned=true</c>: its method, URL, expiry and the headers to send.</summary>
public sealed record PresignedPut(string Method, Uri Url, DateTimeOffset ExpiresAt, Dictionary<string, string> Headers);

/// <summary>A pending pre-signed upload as <c>POST /v1/uploads?presigned=true</c> answers it.</summary>
public sealed record PresignedUpload(Guid Id, string State, PresignedPut Put)
{
    public Uri Url => Put.Url;
    public DateTimeOffset ExpiresAt => Put.ExpiresAt;
    public Dictionary<string, string> Headers => Put.Headers;
}

/// <summary>
/// A client's side of a pre-signed upload (docs/uploads.md): ask for the URL, PUT the bytes straight to the store with
/// a plain client, complete. Used by the in-process tests (<see cref="PresignedUploadTests"/>) and the cluster's.
/// </summary>
public static class PresignedUploads
{
    /// <summary>A client with no proxy and no credentials: what a browser or curl is to the store.</summary>
    public static readonly HttpClient Plain = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromMinutes(10) };

    /// <summary>POST /v1/uploads?presigned=true with <paramref name="body"/>: 201, a pending upload and a PUT.</summary>
    public static async Task<PresignedUpload> StartAsync(HttpClient client, object body)
    {
        using var response = await client.PostAsJsonAsync("/v1/uploads?presigned=true", body, JobClientExtensions.Json);
        await JobClientExtensions.EnsureSuccessAsync(response);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var presigned = (await response.Content.ReadFromJsonAsync<PresignedUpload>(JobClientExtensions.Json))!;
        Assert.Equal($"/v1/uploads/{presigned.Id}", response.Headers.Location!.OriginalString);
        Assert.Equal("pending", presigned.State);
        Assert.Equal("PUT", presigned.Put.Method);
        return presigned;
    }

    /// <summary>Declares <paramref name="content"/> (its size and SHA-256) for a pre-signed upload.</summary>
    public static Task<PresignedUpload> StartAsync(HttpClient client, byte[] content, string fileName = "scan.pdf", string contentType = "application/pdf") =>
        StartAsync(client, new { fileName, sizeBytes = content.Length, sha256 = Convert.ToHexStringLower(SHA256.HashData(content)), contentType });

    /// <summary>PUTs <paramref name="content"/> to the pre-signed URL with the headers it asks for (or another Content-Type).</summary>
    public static async Task<HttpResponseMessage> PutAsync(PresignedUpload presigned, HttpContent content, string? contentType = null)
    {
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType ?? presigned.Headers["Content-Type"]);
        using var request = new HttpRequestMessage(HttpMethod.Put, presigned.Url) { Content = content };
        return await Plain.SendAsync(request);
    }

    /// <summary>POST /v1/uploads/{id}/complete, its answer as it is.</summary>
    public static async Task<HttpResponseMessage> CompleteAsync(HttpClient client, Guid id) =>
        await client.PostAsync($"/v1/uploads/{id}/complete", null);
}
