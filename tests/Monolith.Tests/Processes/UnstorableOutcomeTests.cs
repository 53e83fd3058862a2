using Monolith.Tests.Features.HttpRequests;
using Monolith.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Monolith.Tests.Processes;

/// <summary>
/// A worker whose jobs keep producing outcomes PostgreSQL cannot store as they are (a vendor on 127.0.0.1 answering
/// with a NUL in its status line, which .NET quotes in the exception message; a NUL in a JSON body) still records
/// every other job's outcome: many noops submitted before, between and after them all finish, and no job stays
/// running.
/// </summary>
[Collection("Processes")]
public sealed class UnstorableOutcomeTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_worker_keeps_recording_outcomes_while_its_jobs_produce_unstorable_text()
    {
        await using var vendor = RawVendor.Start();
        vendor.Answer("/status-nul-500", RawVendor.Response("500 Bad\0Vendor"));
        vendor.Answer("/status-nul-200", RawVendor.Response("200 O\0K", "{\"ok\":true}"));
        vendor.Answer("/body-nul", RawVendor.Response("200 OK", "{\"name\":\"Ada\0Lovelace\",\"note\":\"\\u0000\"}"));

        await using var group = await ProcessGroup.CreateAsync(nameof(UnstorableOutcomeTests));
        await output.WithLogsOnFailureAsync(group, async () =>
        {
            await group.StartAsync(
                new NodeSpec("api", "api-1"),
                new NodeSpec("worker", "worker-1", new Dictionary<string, string> { ["WORKER_CONCURRENCY"] = "4" }));
            var db = group.DatabaseUrl;
            using var client = group["api-1"].CreateClient();

            async Task<Guid[]> NoopsAsync(int count) =>
                await Task.WhenAll(Enumerable.Range(0, count).Select(async _ => (await client.SubmitJobAsync("noop", new { })).Id));

            var noops = new List<Guid>(await NoopsAsync(20));
            var failing = new List<Guid>();
            var bodies = new List<Guid>();
            for (var round = 0; round < 5; round++)
            {
                failing.Add((await client.SubmitJobAsync("http_request", new { method = "GET", url = vendor.Url("/status-nul-500") },
                    new { maxAttempts = 2, backoffSeconds = 0 })).Id);
                noops.AddRange(await NoopsAsync(5));
                failing.Add((await client.SubmitJobAsync("http_request", new { method = "GET", url = vendor.Url("/status-nul-200") },
                    new { maxAttempts = 1 })).Id);
                bodies.Add((await client.SubmitJobAsync("http_request", new { method = "GET", url = vendor.Url("/body-nul") })).Id);
                noops.AddRange(await NoopsAsync(5));
            }
            // Wait until the vendor has been asked by every job at least once: the unstorable outcomes are in the recorder's way.
            await ProcessTestKit.WaitUntilAsync("every vendor job has called the vendor", TimeSpan.FromSeconds(60),
                () => Task.FromResult(vendor.Paths.Count >= failing.Count + bodies.Count),
                () => Task.FromResult($"{vendor.Paths.Count} calls"));
            noops.AddRange(await NoopsAsync(20));

            var all = noops.Concat(failing).Concat(bodies).ToArray();
            await ProcessTestKit.WaitUntilAsync($"all {all.Length} jobs finished", TimeSpan.FromSeconds(90),
                async () => await ProcessTestKit.ScalarAsync<long>(db,
                    "SELECT count(*) FROM jobs WHERE id = ANY(@ids) AND state IN ('succeeded', 'failed')", ("ids", all)) == all.Length,
                async () => ProcessTestKit.Describe(await ProcessTestKit.CountStatesAsync(db, all)));

            output.Report($"{noops.Count} noops, {failing.Count} jobs failing with a NUL in the vendor's status line, " +
                          $"{bodies.Count} with a NUL in the vendor's body: {ProcessTestKit.Describe(await ProcessTestKit.CountStatesAsync(db, all))}");
            Assert.Equal(0, await ProcessTestKit.ScalarAsync<long>(db, "SELECT count(*) FROM jobs WHERE state = 'running'"));
            Assert.Equal(noops.Count, await ProcessTestKit.ScalarAsync<long>(db,
                "SELECT count(*) FROM jobs WHERE id = ANY(@ids) AND state = 'succeeded'", ("ids", noops.ToArray())));

            foreach (var id in failing)
            {
                var job = await client.GetJobAsync(id);
                Assert.Equal("failed", job.State);
                Assert.All(job.Attempts, a => Assert.Contains('\uFFFD', a.Error!));
                Assert.All(job.Attempts, a => Assert.DoesNotContain('\0', a.Error!));
            }
            foreach (var id in bodies)
            {
                var job = await client.GetJobAsync(id);
                Assert.Equal("succeeded", job.State);
                Assert.Equal("{\"name\":\"Ada\uFFFDLovelace\",\"note\":\"\\u0000\"}", job.Result!.Value.GetProperty("body").GetString());
                Assert.Contains("U+FFFD", job.LastError, StringComparison.Ordinal);
            }
        });
    }
}
