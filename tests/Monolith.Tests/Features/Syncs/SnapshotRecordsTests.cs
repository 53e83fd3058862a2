using System.Net;
using System.Net.Http.Json;
using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Features.Syncs;

/// <summary>Reading snapshots: keyset paging, equality filters, one record, and one tenant never seeing another's.</summary>
public sealed class SnapshotRecordsTests(SyncsFactory app) : IClassFixture<SyncsFactory>
{
    private async Task<(HttpClient Client, SyncCreatedDto Sync)> SyncedAsync(SourceApi source, string snapshot)
    {
        var client = await app.CreateTenantClientAsync();
        var created = await client.CreateSyncAsync(SyncTestKit.Body(source, "page", snapshot));
        Assert.Equal("completed", (await client.WaitUntilFinishedAsync(created.Id)).State);
        return (client, created);
    }

    [Fact]
    public async Task Records_ArePagedByExternalId_WithAStableCursor()
    {
        await using var source = await SourceApi.StartAsync(count: 25, pageSize: 10);
        var (client, _) = await SyncedAsync(source, "paged");

        var first = (await client.GetFromJsonAsync<SnapshotPageDto>("/v1/snapshots/paged/records?limit=10", JobClientExtensions.Json))!;
        var second = (await client.GetFromJsonAsync<SnapshotPageDto>($"/v1/snapshots/paged/records?limit=10&cursor={first.NextCursor}", JobClientExtensions.Json))!;
        var third = (await client.GetFromJsonAsync<SnapshotPageDto>($"/v1/snapshots/paged/records?limit=10&cursor={second.NextCursor}", JobClientExtensions.Json))!;

        Assert.Equal(Enumerable.Range(1, 10).Select(SourceApi.IdOf), first.Items.Select(r => r.ExternalId));
        Assert.Equal(Enumerable.Range(11, 10).Select(SourceApi.IdOf), second.Items.Select(r => r.ExternalId));
        Assert.Equal(Enumerable.Range(21, 5).Select(SourceApi.IdOf), third.Items.Select(r => r.ExternalId));
        Assert.Null(third.NextCursor);
    }

    [Fact]
    public async Task Filter_KeepsRecordsWhoseFieldEqualsTheValue_AsTextOrJson()
    {
        await using var source = await SourceApi.StartAsync(count: 30, pageSize: 10);
        var (client, _) = await SyncedAsync(source, "filtered");

        var active = await client.AllRecordsAsync("filtered", limit: 4, filter: "status:active");
        Assert.Equal(Enumerable.Range(1, 30).Where(n => n % 3 == 0).Select(SourceApi.IdOf), active.Select(r => r.ExternalId));
        var seventeen = await client.AllRecordsAsync("filtered", filter: "n:17");
        Assert.Equal([SourceApi.IdOf(17)], seventeen.Select(r => r.ExternalId));
        var quoted = await client.AllRecordsAsync("filtered", filter: "name:\"Record 5\"");
        Assert.Equal([SourceApi.IdOf(5)], quoted.Select(r => r.ExternalId));
        Assert.Empty(await client.AllRecordsAsync("filtered", filter: "n:\"17\"")); // the string "17" is not the number 17

        using var bad = await client.GetAsync("/v1/snapshots/filtered/records?filter=nocolon");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("application/problem+json", bad.Content.Headers.ContentType?.MediaType);
        Assert.Contains("\"filter\"", await bad.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Snapshots_AreIsolatedPerTenant()
    {
        await using var source = await SourceApi.StartAsync(count: 12, pageSize: 10);
        var (owner, sync) = await SyncedAsync(source, "shared-name");
        var other = await app.CreateTenantClientAsync();

        Assert.Equal(12, (await owner.AllRecordsAsync("shared-name")).Count);
        Assert.Empty(await other.AllRecordsAsync("shared-name"));
        using var record = await other.GetAsync($"/v1/snapshots/shared-name/records/{SourceApi.IdOf(1)}");
        Assert.Equal(HttpStatusCode.NotFound, record.StatusCode);
        Assert.Equal("application/problem+json", record.Content.Headers.ContentType?.MediaType);
        using var foreignSync = await other.GetAsync($"/v1/syncs/{sync.Id}");
        Assert.Equal(HttpStatusCode.NotFound, foreignSync.StatusCode);
        using var foreignCancel = await other.PostAsync($"/v1/syncs/{sync.Id}/cancel", null);
        Assert.Equal(HttpStatusCode.NotFound, foreignCancel.StatusCode);
        var list = (await other.GetFromJsonAsync<SyncListDto>("/v1/syncs", JobClientExtensions.Json))!;
        Assert.Empty(list.Items);

        // The other tenant's own snapshot of the same name is its own.
        var theirs = await other.CreateSyncAsync(SyncTestKit.Body(source, "cursor", "shared-name"));
        Assert.Equal("completed", (await other.WaitUntilFinishedAsync(theirs.Id)).State);
        Assert.All(await other.AllRecordsAsync("shared-name"), r => Assert.Equal(theirs.Id, r.SyncId));
        Assert.All(await owner.AllRecordsAsync("shared-name"), r => Assert.Equal(sync.Id, r.SyncId));
    }

    [Fact]
    public async Task ListSyncs_PagesNewestFirst_AndFiltersBySnapshot()
    {
        await using var source = await SourceApi.StartAsync(count: 5, pageSize: 10);
        var client = await app.CreateTenantClientAsync();
        var ids = new List<Guid>();
        foreach (var snapshot in new[] { "a", "b", "a" })
        {
            ids.Add((await client.CreateSyncAsync(SyncTestKit.Body(source, "page", snapshot))).Id);
        }

        var first = (await client.GetFromJsonAsync<SyncListDto>("/v1/syncs?limit=2", JobClientExtensions.Json))!;
        var second = (await client.GetFromJsonAsync<SyncListDto>($"/v1/syncs?limit=2&cursor={first.NextCursor}", JobClientExtensions.Json))!;
        var onlyA = (await client.GetFromJsonAsync<SyncListDto>("/v1/syncs?snapshot=a", JobClientExtensions.Json))!;

        Assert.Equal([ids[2], ids[1]], first.Items.Select(s => s.Id));
        Assert.Equal([ids[0]], second.Items.Select(s => s.Id));
        Assert.Equal([ids[2], ids[0]], onlyA.Items.Select(s => s.Id));
    }
}

public sealed record SyncListDto(List<SyncDto> Items, string? NextCursor);
