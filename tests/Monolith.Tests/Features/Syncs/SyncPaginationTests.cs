using System.Net.Http.Json;
using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Features.Syncs;

/// <summary>Each paging style, against a real source on 127.0.0.1: the snapshot ends with exactly the source's records, each page asked once.</summary>
public sealed class SyncPaginationTests(SyncsFactory app) : IClassFixture<SyncsFactory>
{
    [Theory]
    [InlineData("page", 5)]             // stops after meta.totalPages
    [InlineData("page-until-empty", 6)] // no totals: stops on the first empty page
    [InlineData("cursor", 5)]           // stops when paging.next is null
    [InlineData("link", 5)]             // follows the Link header's rel="next" (a relative URL)
    [InlineData("link-body", 5)]        // follows links.next in the body
    public async Task Sync_EndsWithExactlyTheSourcesRecords_ForEachPagingStyle(string style, int expectedRequests)
    {
        await using var source = await SourceApi.StartAsync(count: 47, pageSize: 10); // 5 pages, the last one short
        var client = await app.CreateTenantClientAsync();

        var created = await client.CreateSyncAsync(SyncTestKit.Body(source, style, "people"));
        var done = await client.WaitUntilFinishedAsync(created.Id);

        Assert.Equal("completed", done.State);
        Assert.Equal(47, done.RecordsUpserted);
        Assert.Equal(expectedRequests, done.PagesFetched);
        Assert.Equal(100, done.ProgressPercent);
        Assert.Null(done.Checkpoint);
        Assert.Equal("succeeded", done.Job!.State);
        SyncTestKit.AssertSameRecords(source.Records(), await client.AllRecordsAsync("people"));
        var pages = source.RequestsTo(style == "page-until-empty" ? "page" : style).Select(r => r.Page).ToList();
        Assert.Equal(Enumerable.Range(1, expectedRequests), pages);
    }

    [Fact]
    public async Task Sync_StoresUpdatedAtFromItsPath_AndCountsPagesFromTheSourcesTotals()
    {
        await using var source = await SourceApi.StartAsync(count: 30, pageSize: 10);
        var client = await app.CreateTenantClientAsync();

        var created = await client.CreateSyncAsync(SyncTestKit.Body(source, "page", "dated"));
        var done = await client.WaitUntilFinishedAsync(created.Id);

        Assert.Equal(3, done.TotalPages);
        Assert.Equal(30, done.TotalRecords);
        var record = await client.GetFromJsonAsync<SnapshotRecordDto>($"/v1/snapshots/dated/records/{SourceApi.IdOf(12)}", JobClientExtensions.Json);
        Assert.Equal(new DateTimeOffset(2024, 1, 1, 0, 12, 0, TimeSpan.Zero), record!.UpdatedAt);
        Assert.Equal(created.Id, record.SyncId);
        Assert.Equal(12, record.Data.GetProperty("n").GetInt32());
    }
}
