using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Monolith.Tests.Features.Queues;
using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Features.Transfers;

/// <summary>
/// The directory destination is shared by every tenant of the service: each tenant writes only inside its own part
/// of <c>Transfers:DirectoryRoot</c> (<c>&lt;root&gt;/&lt;tenant id&gt;/</c>), whatever path it gives; hidden names,
/// control, format and invisible characters are refused; a path that cannot be written fails at once.
/// </summary>
public sealed class DirectoryDestinationTests(TransfersFactory app) : IClassFixture<TransfersFactory>, IAsyncLifetime
{
    private LoopbackServer _server = null!;

    public async Task InitializeAsync() => _server = await LoopbackServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static object ToDirectory(Guid uploadId, string path) => new { source = new { type = "upload", uploadId }, destination = new { type = "directory", path } };

    private static async Task<string> RefusedPathAsync(HttpClient client, Guid uploadId, string path)
    {
        using var response = await client.PostTransferAsync(ToDirectory(uploadId, path));
        var errors = await TransferClientExtensions.ProblemErrorsAsync(response);
        Assert.Equal(["destination.path"], errors.Keys);
        return errors["destination.path"][0];
    }

    [Fact]
    public async Task TwoTenants_DeliveringTheSamePath_EachKeepTheirOwnFile()
    {
        var (tenantA, a) = await app.CreateTenantAsync();
        var (tenantB, b) = await app.CreateTenantAsync();
        var contentA = RandomNumberGenerator.GetBytes(10_000);
        var contentB = RandomNumberGenerator.GetBytes(10_000);
        var path = $"shared-{Guid.NewGuid():N}/report.pdf";

        var fromB = await tenantB.CreateTransferAsync(ToDirectory((await tenantB.UploadBytesAsync(contentB)).Id, path));
        Assert.Equal("completed", (await tenantB.WaitUntilFinishedAsync(fromB.Id)).State);
        var fromA = await tenantA.CreateTransferAsync(ToDirectory((await tenantA.UploadBytesAsync(contentA)).Id, path));
        var doneA = await tenantA.WaitUntilFinishedAsync(fromA.Id);

        Assert.Equal("completed", doneA.State);
        Assert.Equal(path, doneA.DestinationAnswer!.Location);
        Assert.Equal(contentB, await File.ReadAllBytesAsync(Path.Combine(app.TenantDirectory(b), path)));
        Assert.Equal(contentA, await File.ReadAllBytesAsync(Path.Combine(app.TenantDirectory(a), path)));
        Assert.False(File.Exists(Path.Combine(app.DirectoryRoot, path)));
    }

    [Fact]
    public async Task PathsAimingAtAnotherTenantsPart_AreRefused_OrStayInTheCallersOwn()
    {
        var (tenantA, a) = await app.CreateTenantAsync();
        var (_, b) = await app.CreateTenantAsync();
        var upload = await tenantA.UploadBytesAsync([1, 2, 3]);
        var partB = Directory.CreateDirectory(app.TenantDirectory(b)).FullName;

        Assert.Contains("'..'", await RefusedPathAsync(tenantA, upload.Id, $"../{b}/stolen.pdf"));
        Assert.Contains("'..'", await RefusedPathAsync(tenantA, upload.Id, $"x/../../{b}/stolen.pdf"));
        Assert.Contains("not absolute", await RefusedPathAsync(tenantA, upload.Id, Path.Combine(partB, "stolen.pdf")));

        // A name that is another tenant's id is only a folder in the caller's own part.
        var named = await tenantA.CreateTransferAsync(ToDirectory(upload.Id, $"{b}/stolen.pdf"));
        Assert.Equal("completed", (await tenantA.WaitUntilFinishedAsync(named.Id)).State);
        Assert.Equal([1, 2, 3], await File.ReadAllBytesAsync(Path.Combine(app.TenantDirectory(a), b.ToString(), "stolen.pdf")));
        Assert.Empty(Directory.GetFileSystemEntries(partB));
    }

    [Fact]
    public async Task SymbolicLinksIntoAnotherTenantsPart_AreRefused()
    {
        var (tenantA, a) = await app.CreateTenantAsync();
        var (_, b) = await app.CreateTenantAsync();
        var (tenantC, c) = await app.CreateTenantAsync();
        var upload = await tenantA.UploadBytesAsync([1, 2, 3]);
        var uploadC = await tenantC.UploadBytesAsync([4, 5, 6]);
        var partA = Directory.CreateDirectory(app.TenantDirectory(a)).FullName;
        var partB = Directory.CreateDirectory(app.TenantDirectory(b)).FullName;
        Directory.CreateSymbolicLink(Path.Combine(partA, "to-b"), partB);
        Directory.CreateSymbolicLink(app.TenantDirectory(c), partB); // a tenant's whole part made a link to another's

        Assert.Contains("outside", await RefusedPathAsync(tenantA, upload.Id, "to-b/stolen.pdf"));
        Assert.Contains("symbolic link", await RefusedPathAsync(tenantC, uploadC.Id, "stolen.pdf"));
        Assert.Empty(Directory.GetFileSystemEntries(partB));
    }

    [Theory]
    [InlineData(".dataprotection-keys/key-00000000-0000-0000-0000-000000000001.xml")]
    [InlineData(".hidden.pdf")]
    [InlineData("reports/.env")]
    [InlineData("a/.git/config")]
    [InlineData("...")]
    public async Task NamesBeginningWithADot_AreRefused(string path)
    {
        var client = await app.CreateTenantClientAsync();
        var upload = await client.UploadBytesAsync([1, 2, 3]);

        Assert.Contains("beginning with '.'", await RefusedPathAsync(client, upload.Id, path));
    }

    [Theory]
    [InlineData("nul\u0000.pdf", "NUL")]
    [InlineData("a\u0001b.pdf", "U+0001")]
    [InlineData("tab\t.pdf", "U+0009")]
    [InlineData("new\nline.pdf", "U+000A")]
    [InlineData("del\u007F.pdf", "U+007F")]
    [InlineData("c1\u0085.pdf", "U+0085")]
    [InlineData("invoice\u202Efdp.exe", "U+202E")] // RIGHT-TO-LEFT OVERRIDE: shows as invoiceexe.pdf
    [InlineData("\uFEFFreport.pdf", "U+FEFF")] // BOM
    [InlineData("zero\u200Bwidth.pdf", "U+200B")]
    [InlineData("isolate\u2066x.pdf", "U+2066")]
    [InlineData("soft\u00ADhyphen.pdf", "U+00AD")]
    [InlineData("line\u2028sep.pdf", "U+2028")]
    [InlineData("dir\u202D/report.pdf", "U+202D")]
    [InlineData("unassigned\u0378.pdf", "U+0378")]
    public async Task ControlFormatAndInvisibleCharacters_AreRefused_NamingTheCharacter(string path, string named)
    {
        var client = await app.CreateTenantClientAsync();
        var upload = await client.UploadBytesAsync([1, 2, 3]);

        Assert.Contains(named, await RefusedPathAsync(client, upload.Id, path));
    }

    [Fact]
    public async Task OrdinaryUnicodeNames_AreWrittenAsGiven()
    {
        var (client, tenantId) = await app.CreateTenantAsync();
        var upload = await client.UploadBytesAsync([7, 8, 9]);
        var path = $"Überweisung-{Guid.NewGuid():N}/Résumé 2026 – 東京 (final).pdf";

        var created = await client.CreateTransferAsync(ToDirectory(upload.Id, path));

        Assert.Equal("completed", (await client.WaitUntilFinishedAsync(created.Id)).State);
        Assert.Equal([7, 8, 9], await File.ReadAllBytesAsync(Path.Combine(app.TenantDirectory(tenantId), path)));
    }

    [Fact]
    public async Task AFileNameTooLongForTheFileSystem_IsRefused()
    {
        var client = await app.CreateTenantClientAsync();
        var upload = await client.UploadBytesAsync([1, 2, 3]);

        // 120 characters, 240 bytes in UTF-8: with the temporary name's prefix and suffix past the 255 bytes a name may have.
        var message = await RefusedPathAsync(client, upload.Id, new string('é', 120) + ".pdf");

        Assert.Contains("bytes", message);
    }

    [Fact]
    public async Task APathUnderAnExistingFile_IsRefusedAtSubmit()
    {
        var (client, tenantId) = await app.CreateTenantAsync();
        var upload = await client.UploadBytesAsync([1, 2, 3]);
        var name = $"file-{Guid.NewGuid():N}.txt";
        var first = await client.CreateTransferAsync(ToDirectory(upload.Id, name));
        Assert.Equal("completed", (await client.WaitUntilFinishedAsync(first.Id)).State);

        var message = await RefusedPathAsync(client, upload.Id, $"{name}/inner.txt");

        Assert.Contains($"'{name}' is a file", message);
        Assert.True(File.Exists(Path.Combine(app.TenantDirectory(tenantId), name)));
    }

    [Fact]
    public async Task APathUnderAFileThatAppearsAfterSubmit_FailsAtOnce_WithAClearError()
    {
        var (client, tenantId) = await app.CreateTenantAsync();
        var name = $"late-{Guid.NewGuid():N}.txt";
        var requested = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _server.Handle($"/{name}", async http =>
        {
            requested.TrySetResult();
            await release.Task.WaitAsync(TimeSpan.FromSeconds(30));
            await http.Response.Body.WriteAsync(Encoding.ASCII.GetBytes("a document"));
        });

        var created = await client.CreateTransferAsync(new
        {
            source = new { type = "url", url = _server.Url($"/{name}") },
            destination = new { type = "directory", path = $"{name}/inner.txt" },
        });
        await requested.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Directory.CreateDirectory(app.TenantDirectory(tenantId));
        await File.WriteAllTextAsync(Path.Combine(app.TenantDirectory(tenantId), name), "in the way");
        release.SetResult();
        var transfer = await client.WaitUntilFinishedAsync(created.Id);

        Assert.Equal("failed", transfer.State);
        Assert.Contains($"'{name}' is a file", transfer.Error);
        Assert.Single(transfer.Attempts); // not retried: it cannot succeed later
        Assert.Equal("in the way", await File.ReadAllTextAsync(Path.Combine(app.TenantDirectory(tenantId), name)));
    }
}

/// <summary>
/// <c>Transfers:DirectoryRoot</c> and <c>Storage:Root</c> (uploads, dataset files and the dashboard's key ring) may not
/// overlap: the service refuses to start, naming both settings.
/// </summary>
public sealed class DirectoryRootOverlapTests
{
    private sealed class OverlappingFactory(string storageRoot, string directoryRoot) : MonolithFactory
    {
        protected override Dictionary<string, string?> Settings => new(base.Settings)
        {
            ["Storage:Root"] = storageRoot,
            ["Transfers:DirectoryRoot"] = directoryRoot,
        };
    }

    [Theory]
    [InlineData("files", "files")]
    [InlineData("files", "files/outbox")]
    [InlineData("data/files", "data")]
    [InlineData("files", "link-to-files")] // the same directory through a symbolic link
    public async Task OverlappingRoots_StopStartUp_WithAClearMessage(string storage, string directory)
    {
        var work = Directory.CreateTempSubdirectory("monolith-overlap-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(work, "files"));
            Directory.CreateSymbolicLink(Path.Combine(work, "link-to-files"), Path.Combine(work, "files"));
            await using var factory = new OverlappingFactory(Path.Combine(work, storage), Path.Combine(work, directory));

            var error = await Assert.ThrowsAnyAsync<Exception>(((IAsyncLifetime)factory).InitializeAsync);

            Assert.Contains("Transfers:DirectoryRoot", error.ToString());
            Assert.Contains("Storage:Root", error.ToString());
            Assert.Contains("overlap", error.ToString());
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
