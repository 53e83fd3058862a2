using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Features.Transfers;

/// <summary>
/// Redirects answered to a transfer's source or destination, with two real servers on 127.0.0.1 (two ports: two
/// origins): the tenant's headers go to the origin it named and to redirects on that origin, never to another; a
/// streamed document is never sent twice.
/// </summary>
public sealed class TransferRedirectTests(TransfersFactory app) : IClassFixture<TransfersFactory>, IAsyncLifetime
{
    private static readonly Dictionary<string, string> TenantHeaders = new()
    {
        ["Authorization"] = "Bearer source-token-2b7e",
        ["X-Api-Key"] = "source-key-c41a",
        ["Cookie"] = "session=source-session-9d03",
    };

    private LoopbackServer _first = null!;
    private LoopbackServer _second = null!;

    public async Task InitializeAsync()
    {
        _first = await LoopbackServer.StartAsync();
        _second = await LoopbackServer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _first.DisposeAsync();
        await _second.DisposeAsync();
    }

    /// <summary>Requests to <paramref name="path"/> are answered (after their body is read) with a redirect to <paramref name="location"/>.</summary>
    private static void Redirect(LoopbackServer server, string path, string location, int status = 302) => server.Handle(path, async http =>
    {
        await http.Request.Body.CopyToAsync(Stream.Null);
        http.Response.StatusCode = status;
        http.Response.Headers.Location = location;
    });

    [Fact]
    public async Task UrlSourceRedirectedToAnotherOrigin_IsReadThere_WithoutTheTenantsHeaders()
    {
        var client = await app.CreateTenantClientAsync();
        var content = RandomNumberGenerator.GetBytes(20_000);
        var name = Guid.NewGuid().ToString("N");
        Redirect(_first, $"/{name}.pdf", _second.Url($"/cdn/{name}.pdf"));
        _second.Serve($"/cdn/{name}.pdf", content);

        var created = await client.CreateTransferAsync(new
        {
            source = new { type = "url", url = _first.Url($"/{name}.pdf"), headers = TenantHeaders },
            destination = new { type = "directory", path = $"{name}.pdf" },
        });
        var transfer = await client.WaitUntilFinishedAsync(created.Id);

        Assert.Equal("completed", transfer.State);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(content)), transfer.Sha256);
        var asked = Assert.Single(_first.Requests, r => r.Path == $"/{name}.pdf");
        foreach (var (header, value) in TenantHeaders) Assert.Equal(value, asked.Headers[header]);
        var redirected = Assert.Single(_second.Requests, r => r.Path == $"/cdn/{name}.pdf");
        foreach (var header in TenantHeaders.Keys) Assert.False(redirected.Headers.ContainsKey(header), $"{header} reached the other origin");
    }

    [Fact]
    public async Task UrlSourceRedirectedOnTheSameOrigin_KeepsTheTenantsHeaders()
    {
        var client = await app.CreateTenantClientAsync();
        var content = RandomNumberGenerator.GetBytes(20_000);
        var name = Guid.NewGuid().ToString("N");
        Redirect(_first, $"/{name}.pdf", $"/moved/{name}.pdf", 301);
        _first.Serve($"/moved/{name}.pdf", content, requiredAuthorization: TenantHeaders["Authorization"]);

        var created = await client.CreateTransferAsync(new
        {
            source = new { type = "url", url = _first.Url($"/{name}.pdf"), headers = TenantHeaders },
            destination = new { type = "directory", path = $"{name}.pdf" },
        });
        var transfer = await client.WaitUntilFinishedAsync(created.Id);

        Assert.Equal("completed", transfer.State);
        var redirected = Assert.Single(_first.Requests, r => r.Path == $"/moved/{name}.pdf");
        foreach (var (header, value) in TenantHeaders) Assert.Equal(value, redirected.Headers[header]);
    }

    [Fact]
    public async Task DestinationPostRedirectedToAnotherOrigin_FollowsWithAGet_WithoutTheTenantsHeaders()
    {
        var client = await app.CreateTenantClientAsync();
        var content = RandomNumberGenerator.GetBytes(30_000);
        var upload = await client.UploadBytesAsync(content);
        var name = Guid.NewGuid().ToString("N");
        _first.Handle($"/{name}", async http =>
        {
            await http.Request.Body.CopyToAsync(Stream.Null);
            http.Response.StatusCode = 303;
            http.Response.Headers.Location = _second.Url($"/receipts/{name}");
        });
        _second.Handle($"/receipts/{name}", http => http.Response.WriteAsync("received"));

        var created = await client.CreateTransferAsync(new
        {
            source = new { type = "upload", uploadId = upload.Id },
            destination = new { type = "http", url = _first.Url($"/{name}"), method = "POST", headers = TenantHeaders },
        });
        var transfer = await client.WaitUntilFinishedAsync(created.Id);

        Assert.Equal("completed", transfer.State);
        Assert.Equal(200, transfer.DestinationAnswer!.Status);
        var posted = Assert.Single(_first.Requests, r => r.Path == $"/{name}");
        Assert.Equal(TenantHeaders["X-Api-Key"], posted.Headers["X-Api-Key"]);
        var followed = Assert.Single(_second.Requests, r => r.Path == $"/receipts/{name}");
        Assert.Equal("GET", followed.Method);
        foreach (var header in TenantHeaders.Keys) Assert.False(followed.Headers.ContainsKey(header), $"{header} reached the other origin");
    }

    [Theory]
    [InlineData(307)]
    [InlineData(308)]
    public async Task DestinationRedirectingAStreamedPut_FailsAtOnce_WithoutSendingItAgain(int status)
    {
        var client = await app.CreateTenantClientAsync();
        var upload = await client.UploadBytesAsync(RandomNumberGenerator.GetBytes(30_000));
        var name = Guid.NewGuid().ToString("N");
        Redirect(_first, $"/{name}", $"/elsewhere/{name}", status);

        var created = await client.CreateTransferAsync(new
        {
            source = new { type = "upload", uploadId = upload.Id },
            destination = new { type = "http", url = _first.Url($"/{name}"), method = "PUT" },
        });
        var transfer = await client.WaitUntilFinishedAsync(created.Id);

        Assert.Equal("failed", transfer.State);
        Assert.Contains($"redirected ({status})", transfer.Error);
        Assert.Contains("cannot be sent again", transfer.Error);
        Assert.Single(transfer.Attempts);
        Assert.DoesNotContain(_first.Requests, r => r.Path == $"/elsewhere/{name}");
    }
}
