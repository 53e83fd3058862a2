using System.Text;
using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Features.Syncs;

/// <summary>
/// A source whose records hold text PostgreSQL cannot store (an escaped NUL in values, keys and ids, an escaped lone
/// surrogate): the sync completes, the records are stored with each such character replaced by U+FFFD, and the job's
/// attempt says so.
/// </summary>
public sealed class SyncUnstorableTextTests(SyncsFactory app) : IClassFixture<SyncsFactory>
{
    [Fact]
    public async Task RecordsWithNulAndLoneSurrogates_AreStoredWithTheCharactersReplaced()
    {
        await using var source = await LoopbackServer.StartAsync();
        const string page = """
            {"items": [
              {"id": "a\u0000", "name": "x\u0000y", "k\u0000ey": "v"},
              {"id": "b", "text": "lone \ud800 high", "nested": {"list": ["\u0000", "\udc00", "\ud83d\ude00"]}},
              {"id": "c", "plain": "kept as sent: \\u0000"}
            ]}
            """;
        source.Handle("/records", async http =>
        {
            http.Response.ContentType = "application/json";
            await http.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(page));
        });
        var client = await app.CreateTenantClientAsync();

        var created = await client.CreateSyncAsync(new
        {
            snapshot = "dirty",
            source = new
            {
                url = source.Url("/records"),
                pagination = new { type = "cursor", nextCursorPath = "next" },
                itemsPath = "items",
                idPath = "id",
            },
        });
        var done = await client.WaitUntilFinishedAsync(created.Id);

        Assert.Equal("completed", done.State);
        Assert.Equal("succeeded", done.Job!.State);
        Assert.Equal(3, done.RecordsUpserted);
        Assert.Contains("U+FFFD", done.Job.LastError, StringComparison.Ordinal);

        var records = (await client.AllRecordsAsync("dirty")).ToDictionary(r => r.ExternalId);
        Assert.Equal(["a\uFFFD", "b", "c"], records.Keys.Order(StringComparer.Ordinal));
        var a = records["a\uFFFD"].Data;
        Assert.Equal("a\uFFFD", a.GetProperty("id").GetString());
        Assert.Equal("x\uFFFDy", a.GetProperty("name").GetString());
        Assert.Equal("v", a.GetProperty("k\uFFFDey").GetString());
        var b = records["b"].Data;
        Assert.Equal("lone \uFFFD high", b.GetProperty("text").GetString());
        Assert.Equal(["\uFFFD", "\uFFFD", "\U0001F600"], b.GetProperty("nested").GetProperty("list").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("kept as sent: \\u0000", records["c"].Data.GetProperty("plain").GetString());
    }
}
