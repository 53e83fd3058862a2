using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Tests.Infrastructure;
using Monolith.Worker.Engine;
using Npgsql;
using Xunit.Abstractions;

namespace Monolith.Tests.Features.Syncs;

/// <summary>Updates, cancel, retry from the checkpoint, 429s, the rate limit and secret headers, each against a real source on 127.0.0.1.</summary>
public sealed class SyncBehaviourTests(SyncsFactory app, ITestOutputHelper output) : IClassFixture<SyncsFactory>
{
    [Fact]
    public async Task SecondSync_UpdatesChangedRecords_AndAddsNewOnes()
    {
        await using var source = await SourceApi.StartAsync(count: 25, pageSize: 10);
        var client = await app.CreateTenantClientAsync();
        var first = await client.CreateSyncAsync(SyncTestKit.Body(source, "cursor", "crm"));
        Assert.Equal("completed", (await client.WaitUntilFinishedAsync(first.Id)).State);

        source.Change(records =>
        {
            records[6]["name"] = "Renamed seven";
            records[6]["status"] = "archived";
            records.Add(SourceApi.MakeRecord(26));
        });
        var second = await client.CreateSyncAsync(SyncTestKit.Body(source, "cursor", "crm"));
        var done = await client.WaitUntilFinishedAsync(second.Id);

        Assert.Equal("completed", done.State);
        Assert.Equal(26, done.RecordsUpserted);
        var records = await client.AllRecordsAsync("crm");
        SyncTestKit.AssertSameRecords(source.Records(), records);
        var seven = records.Single(r => r.ExternalId == SourceApi.IdOf(7));
        Assert.Equal("Renamed seven", seven.Data.GetProperty("name").GetString());
        Assert.All(records, r => Assert.Equal(second.Id, r.SyncId));
    }

    [Fact]
    public async Task Cancel_MidSync_StopsBetweenPages_AndKeepsTheCommittedPages()
    {
        await using var source = await SourceApi.StartAsync(count: 300, pageSize: 10); // 30 pages
        source.Delay = TimeSpan.FromMilliseconds(100);
        var client = await app.CreateTenantClientAsync();
        var created = await client.CreateSyncAsync(SyncTestKit.Body(source, "page", "slow"));
        await client.WaitForSyncAsync(created.Id, s => s.PagesFetched >= 3, "3 pages fetched");

        using var response = await client.PostAsync($"/v1/syncs/{created.Id}/cancel", null);
        var requestsAtCancel = source.Requests.Count;
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var done = await client.WaitUntilFinishedAsync(created.Id, TimeSpan.FromSeconds(10));
        // A running job's cancelled state is written by its attempt's outcome, once the handler has returned: once the
        // sync reads cancelled with its job cancelled (asserted below), the run can ask for nothing more.
        var requestsAtEnd = source.Requests.Count;

        Assert.Equal("cancelled", done.State);
        Assert.Equal("cancelled", done.Job!.State);
        Assert.InRange(done.PagesFetched, 3, 29);
        // Nothing is asked once the sync is cancelled, and of what was asked only the page in flight when the cancel
        // arrived was not committed: every other page served is in the snapshot, whole.
        Assert.Equal(requestsAtEnd, source.Requests.Count);
        Assert.InRange(source.Requests.Count, done.PagesFetched, done.PagesFetched + 1);
        var committed = source.Records().Take(done.PagesFetched * 10).ToList();
        SyncTestKit.AssertSameRecords(committed, await client.AllRecordsAsync("slow"));
        Assert.Equal(done.PagesFetched * 10, done.RecordsUpserted);
        Assert.Equal(done.PagesFetched + 1, done.Checkpoint!.Value.GetProperty("page").GetInt32());
        output.WriteLine($"cancelled after {done.PagesFetched} of 30 pages; {requestsAtCancel} requests when the cancel was answered, {requestsAtEnd} in all");
    }

    [Fact]
    public async Task Retry_AfterAFailedPage_ResumesFromTheCheckpoint_WithoutFetchingCommittedPagesAgain()
    {
        await using var source = await SourceApi.StartAsync(count: 60, pageSize: 10); // 6 pages
        source.FailNext(page: 4, status: 404); // a 4xx is not retried: the sync fails at page 4
        var client = await app.CreateTenantClientAsync();
        var created = await client.CreateSyncAsync(SyncTestKit.Body(source, "link", "resumed"));

        var failed = await client.WaitUntilFinishedAsync(created.Id);
        Assert.Equal("failed", failed.State);
        Assert.Contains("404", failed.Error);
        Assert.Equal(3, failed.PagesFetched);
        Assert.EndsWith("/link?page=4", failed.Checkpoint!.Value.GetProperty("url").GetString());
        Assert.Equal(30, (await client.AllRecordsAsync("resumed")).Count);

        using var retry = await client.PostAsync($"/v1/syncs/{created.Id}/retry", null);
        Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
        var done = await client.WaitForSyncAsync(created.Id, s => s.State == "completed" && s.Job?.State == "succeeded", "completed");

        Assert.Equal(6, done.PagesFetched);
        Assert.Equal(60, done.RecordsUpserted);
        SyncTestKit.AssertSameRecords(source.Records(), await client.AllRecordsAsync("resumed"));
        // Pages 1-3 once (committed before the failure), page 4 twice (the 404, then the retry), 5 and 6 once.
        Assert.Equal([1, 2, 3, 4, 4, 5, 6], source.RequestsTo("link").Select(r => r.Page));
        using var again = await client.PostAsync($"/v1/syncs/{created.Id}/retry", null);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
    }

    [Fact]
    public async Task TooManyRequests_WaitsTheRetryAfter_ThenAsksForTheSamePageAgain()
    {
        await using var source = await SourceApi.StartAsync(count: 50, pageSize: 10);
        source.FailNext(page: 3, status: 429, retryAfterSeconds: 2);
        var client = await app.CreateTenantClientAsync();

        var created = await client.CreateSyncAsync(SyncTestKit.Body(source, "page", "limited"));
        var done = await client.WaitUntilFinishedAsync(created.Id);

        Assert.Equal("completed", done.State);
        Assert.Equal(1, done.Job!.Attempt); // waited inside the attempt, no retry of the job
        SyncTestKit.AssertSameRecords(source.Records(), await client.AllRecordsAsync("limited"));
        var pageThree = source.RequestsTo("page").Where(r => r.Page == 3).ToList();
        Assert.Equal([429, 200], pageThree.Select(r => r.Status));
        var waited = pageThree[1].At - pageThree[0].At;
        output.WriteLine($"Retry-After 2 s; page 3 asked again {waited.TotalMilliseconds:0} ms later");
        Assert.True(waited >= TimeSpan.FromSeconds(1.95), $"asked again after {waited.TotalMilliseconds:0} ms, before the 2 s Retry-After");
        Assert.Equal([1, 2, 3, 3, 4, 5], source.RequestsTo("page").Select(r => r.Page));
    }

    [Fact]
    public async Task RateLimit_IsHeldAcrossTwoConcurrentSyncsOfOneSource_ByMeasuredRequestTimes()
    {
        const double perSecond = 5;
        await using var source = await SourceApi.StartAsync(count: 120, pageSize: 10); // 12 pages per sync
        var client = await app.CreateTenantClientAsync();

        var syncs = await Task.WhenAll(
            client.CreateSyncAsync(SyncTestKit.Body(source, "page", "rate-a", rateLimitPerSecond: perSecond)),
            client.CreateSyncAsync(SyncTestKit.Body(source, "page", "rate-b", rateLimitPerSecond: perSecond)));
        foreach (var sync in syncs) Assert.Equal("completed", (await client.WaitUntilFinishedAsync(sync.Id, TimeSpan.FromSeconds(60))).State);

        var times = source.RequestsTo("page").Select(r => r.At).Order().ToList();
        Assert.Equal(24, times.Count);
        // Slots are reserved 200 ms apart and a request may go late (a busy machine) but never early. Tolerance: a
        // request up to 500 ms late; then any 1-second window holds at most 5 + 3 requests, and the 24 requests span at
        // least (24 - 3) / 5 s. Without the shared limit the two syncs would make 24 requests in well under a second.
        var busiest = times.Max(t => times.Count(u => u >= t && u < t + TimeSpan.FromSeconds(1)));
        var span = times[^1] - times[0];
        output.WriteLine($"24 requests over {span.TotalSeconds:0.00} s ({(times.Count - 1) / span.TotalSeconds:0.00}/s), " +
                         $"at most {busiest} in any 1 s window (limit {perSecond}/s)");
        Assert.InRange(busiest, 1, (int)perSecond + 3);
        Assert.True(span >= TimeSpan.FromSeconds((times.Count - 3) / perSecond), $"24 requests in {span.TotalSeconds:0.00} s: faster than {perSecond}/s");
        // The two syncs really ran at the same time (else the test would prove nothing about sharing the limit).
        await using var connection = await TestDatabase.OpenAsync(app.DatabaseUrl);
        await using var overlap = new NpgsqlCommand(
            "SELECT max(started_at) < min(finished_at) FROM syncs WHERE id = ANY($1)", connection);
        overlap.Parameters.Add(new NpgsqlParameter { Value = syncs.Select(s => s.Id).ToArray() });
        Assert.True((bool)(await overlap.ExecuteScalarAsync())!, "the two syncs did not overlap");
    }

    [Fact]
    public async Task Headers_AreSentToTheSource_ButStoredEncrypted_AndNeverShown()
    {
        const string secret = "Bearer s3cret-token-for-the-source";
        await using var source = await SourceApi.StartAsync(count: 15, pageSize: 10);
        var client = await app.CreateTenantClientAsync();

        var created = await client.CreateSyncAsync(SyncTestKit.Body(source, "page", "private",
            extraSource: new { headers = new Dictionary<string, string> { ["Authorization"] = secret } }));
        await client.WaitUntilFinishedAsync(created.Id);

        Assert.All(source.Requests, r => Assert.Equal(secret, r.Authorization));
        using var shown = await client.GetAsync($"/v1/syncs/{created.Id}");
        var body = await shown.Content.ReadAsStringAsync();
        Assert.DoesNotContain("s3cret", body);
        Assert.Equal(["Authorization"], (await client.GetSyncAsync(created.Id)).Source.HeaderNames);
        await using var connection = await TestDatabase.OpenAsync(app.DatabaseUrl);
        await using var stored = new NpgsqlCommand("SELECT source->'headers'->>'Authorization' FROM syncs WHERE id = $1", connection);
        stored.Parameters.Add(new NpgsqlParameter { Value = created.Id });
        var value = (string)(await stored.ExecuteScalarAsync())!;
        Assert.StartsWith("enc:v1:", value);
        Assert.DoesNotContain("s3cret", value);
    }

    [Fact]
    public async Task GetSync_ShowsProgressAndEta_WhileRunning()
    {
        await using var source = await SourceApi.StartAsync(count: 200, pageSize: 10); // 20 pages
        source.Delay = TimeSpan.FromMilliseconds(100);
        var client = await app.CreateTenantClientAsync();
        var created = await client.CreateSyncAsync(SyncTestKit.Body(source, "page", "watched"));

        var running = await client.WaitForSyncAsync(created.Id, s => s.State == "running" && s.PagesFetched >= 4, "4 pages fetched");

        Assert.Equal(20, running.TotalPages);
        Assert.InRange(running.ProgressPercent!.Value, 20, 99);
        Assert.NotNull(running.EtaSeconds);
        Assert.InRange(running.EtaSeconds!.Value, 0.1, 60);
        Assert.Equal(running.PagesFetched * 10, running.RecordsUpserted);
        Assert.Equal(running.PagesFetched + 1, running.Checkpoint!.Value.GetProperty("page").GetInt32());
        Assert.Equal("completed", (await client.WaitUntilFinishedAsync(created.Id)).State);
    }

    [Fact]
    public async Task TooManyRequests_WithALongRetryAfter_EndsTheAttempt_AndTheRetryResumesNoEarlierThanIt()
    {
        await using var source = await SourceApi.StartAsync(count: 40, pageSize: 10);
        source.FailNext(page: 2, status: 429, retryAfterSeconds: 7); // longer than Syncs:MaxInlineRetryAfterSeconds (5 here)
        var client = await app.CreateTenantClientAsync();

        var created = await client.CreateSyncAsync(SyncTestKit.Body(source, "page", "later"));
        var done = await client.WaitUntilFinishedAsync(created.Id, TimeSpan.FromSeconds(60));

        Assert.Equal("completed", done.State);
        Assert.Equal(2, done.Job!.Attempt);
        SyncTestKit.AssertSameRecords(source.Records(), await client.AllRecordsAsync("later"));
        var pages = source.RequestsTo("page");
        Assert.Equal([1, 2, 2, 3, 4], pages.Select(r => r.Page)); // page 1 was committed: the retry starts at page 2
        var waited = pages[2].At - pages[1].At;
        output.WriteLine($"Retry-After 7 s; the next attempt asked for page 2 after {waited.TotalSeconds:0.00} s");
        Assert.True(waited >= TimeSpan.FromSeconds(6.95), $"asked again after {waited.TotalSeconds:0.00} s, before the 7 s Retry-After");
    }

    [Fact]
    public async Task NextLink_ToAnotherOrigin_FailsTheSync_WithoutCallingIt()
    {
        await using var source = await SourceApi.StartAsync(count: 30, pageSize: 10);
        await using var elsewhere = await SourceApi.StartAsync(count: 30, pageSize: 10);
        source.NextLinkOrigin = elsewhere.BaseUrl; // same address, another port: another origin
        var client = await app.CreateTenantClientAsync();

        var created = await client.CreateSyncAsync(SyncTestKit.Body(source, "link-body", "hop",
            extraSource: new { headers = new Dictionary<string, string> { ["Authorization"] = "Bearer not-for-others" } }));
        var done = await client.WaitUntilFinishedAsync(created.Id);

        Assert.Equal("failed", done.State);
        Assert.Contains("another origin", done.Error);
        Assert.Empty(elsewhere.Requests);
        Assert.Equal(0, done.PagesFetched); // the page naming the foreign link is not committed either
    }

    [Fact]
    public async Task StaleRun_WhoseLeaseWasTakenOver_CommitsNoFurtherPage()
    {
        await using var source = await SourceApi.StartAsync(count: 300, pageSize: 10);
        source.Delay = TimeSpan.FromMilliseconds(300);
        var client = await app.CreateTenantClientAsync();
        var created = await client.CreateSyncAsync(SyncTestKit.Body(source, "page", "fenced"));
        await client.WaitForSyncAsync(created.Id, s => s.PagesFetched >= 2, "2 pages fetched");

        // What a recovery does to a job whose node was presumed dead: a new lease. The old run is still fetching a page.
        await using var connection = await TestDatabase.OpenAsync(app.DatabaseUrl);
        await using (var takeOver = new NpgsqlCommand("UPDATE jobs SET lease_token = gen_random_uuid() WHERE id = $1", connection))
        {
            takeOver.Parameters.Add(new NpgsqlParameter { Value = created.JobId });
            Assert.Equal(1, await takeOver.ExecuteNonQueryAsync());
        }
        var atTakeOver = await client.GetSyncAsync(created.Id);
        var requestsAtTakeOver = source.Requests.Count;
        // The stale run fetches the page in flight, is refused its commit and stops: wait until this node runs it no more.
        var running = app.Services.GetRequiredService<RunningJobs>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (running.Ids.Contains(created.JobId))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "the stale run did not stop within 30 s");
            await Task.Delay(25);
        }

        var after = await client.GetSyncAsync(created.Id);
        Assert.Equal(atTakeOver.PagesFetched, after.PagesFetched);
        Assert.Equal(atTakeOver.RecordsUpserted, after.RecordsUpserted);
        Assert.Equal(atTakeOver.PagesFetched * 10, (await client.AllRecordsAsync("fenced")).Count);
        Assert.InRange(source.Requests.Count - requestsAtTakeOver, 0, 1); // at most the page that was in flight
        output.WriteLine($"lease taken over at {atTakeOver.PagesFetched} pages; {source.Requests.Count} requests served, nothing more committed");
    }
}
