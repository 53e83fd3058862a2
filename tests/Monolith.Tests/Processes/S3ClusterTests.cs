using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Monolith.Tests.Features.Datasets;
using Monolith.Tests.Features.Transfers;
using Monolith.Tests.Infrastructure;
using Monolith.Tests.Storage;
using Xunit.Abstractions;

namespace Monolith.Tests.Processes;

/// <summary>
/// A cluster with no shared disk on S3 (issue 14): one s3rver, an <c>api</c> node and two <c>worker</c> nodes as real
/// processes with <c>Storage__Kind=S3</c>, each node with folders of its own (<c>Storage__Root</c>, <c>TMPDIR</c>,
/// <c>HOME</c>, <c>Transfers__DirectoryRoot</c>). A 1 GiB document is uploaded pre-signed
/// (streamed by the test straight to the bucket, its SHA-256 declared first), completed, and transferred to an HTTP
/// receiver and to a directory; the worker sending it to the receiver is SIGKILLed midway, the other worker sends it
/// again, and the receiver ends with exactly one complete copy. A names-history zip uploaded the same way is parsed
/// as a dataset meanwhile. Every SHA-256 is checked against the source's; no upload byte is left in any node's folders.
/// </summary>
[Collection("Processes")]
public sealed class S3ClusterTests(ITestOutputHelper output)
{
    private const long Size = 1L << 30;
    private const ulong Seed = 14;
    private const int LastYear = 1909; // 30 years of the names history: about 100,000 rows

    [Fact]
    public async Task Api_and_two_workers_without_shared_disk_move_1GiB_and_parse_a_zip_through_S3_and_survive_a_killed_worker()
    {
        var total = Stopwatch.StartNew();
        var sha256 = GeneratedStream.Sha256Of(Size, Seed);
        await using var s3 = await S3rver.StartAsync();
        await using var group = await ProcessGroup.CreateAsync(nameof(S3ClusterTests));
        await using var receiver = await LoopbackServer.StartAsync();
        var folders = Directory.CreateTempSubdirectory("monolith-s3-cluster-").FullName;
        var names = Path.Combine(folders, "names.zip");
        try
        {
            NamesHistory.WriteZip(names, LastYear);
            var nodes = new[] { ("api", "api-1"), ("worker", "worker-1"), ("worker", "worker-2") }
                .Select(n => new NodeSpec(n.Item1, n.Item2, NodeEnvironment(s3, Path.Combine(folders, n.Item2))))
                .ToArray();
            await output.WithLogsOnFailureAsync(group, async () =>
            {
                await group.StartAsync(nodes);
                output.Report($"s3rver and 3 nodes up after {total.Elapsed.TotalSeconds:F1} s");
                using var admin = group["api-1"].CreateClient();
                var tenant = await admin.PostJsonAsync<MonolithFactory.CreatedTenant>("/v1/admin/tenants", new { name = "s3-cluster" });
                using var client = group["api-1"].CreateClient(tenant.ApiKey.Key);
                client.Timeout = TimeSpan.FromMinutes(10);

                // The names zip first, so that a worker parses it while the large document goes up.
                var zipBytes = await File.ReadAllBytesAsync(names);
                var zip = await PresignedUploads.StartAsync(client, zipBytes, "names.zip", "application/zip");
                using (var put = await PresignedUploads.PutAsync(zip, new ByteArrayContent(zipBytes))) Assert.Equal(HttpStatusCode.OK, put.StatusCode);
                await CompleteReadyAsync(client, zip.Id);
                using var createdDataset = await client.PostAsJsonAsync("/v1/datasets", new { uploadId = zip.Id, country = "US" }, JobClientExtensions.Json);
                await JobClientExtensions.EnsureSuccessAsync(createdDataset);
                var dataset = (await createdDataset.Content.ReadFromJsonAsync<DatasetCreatedDto>(JobClientExtensions.Json))!;

                // 1 GiB, declared, PUT straight to the bucket (generated as it is sent), then verified by the service.
                var clock = Stopwatch.StartNew();
                var large = await PresignedUploads.StartAsync(client, new { fileName = "large.bin", sizeBytes = Size, sha256, contentType = "application/octet-stream" });
                Assert.StartsWith(s3.Url, large.Put.Url.ToString());
                await using (var generated = new GeneratedStream(Size, seed: Seed))
                {
                    var content = new StreamContent(generated, 1 << 20);
                    content.Headers.ContentLength = Size;
                    using var put = await PresignedUploads.PutAsync(large, content);
                    Assert.Equal(HttpStatusCode.OK, put.StatusCode);
                    Assert.Equal(sha256, generated.Sha256);
                }
                var putSeconds = clock.Elapsed.TotalSeconds;
                clock.Restart();
                var ready = await CompleteReadyAsync(client, large.Id);
                Assert.Equal(sha256, ready.GetProperty("sha256").GetString());
                output.Report($"1 GiB: PUT to s3rver in {putSeconds:F1} s ({1024 / putSeconds:F0} MiB/s); " +
                              $"completed (copied and hashed by api-1) in {clock.Elapsed.TotalSeconds:F1} s ({1024 / clock.Elapsed.TotalSeconds:F0} MiB/s)");

                // Both transfers at once; the receiver reads slowly until its sender is killed.
                receiver.BytesPerSecond = 64L << 20;
                clock.Restart();
                var toHttp = await client.CreateTransferAsync(new
                {
                    source = new { type = "upload", uploadId = large.Id },
                    destination = new { type = "http", url = receiver.Url("/inbox/large.bin"), method = "PUT" },
                });
                var toDirectory = await client.CreateTransferAsync(new
                {
                    source = new { type = "upload", uploadId = large.Id },
                    destination = new { type = "directory", path = "inbox/large.bin" },
                });

                TransferDto seen = null!;
                await ProcessTestKit.WaitUntilAsync("the copy to the receiver is between 5 % and 60 %", TimeSpan.FromSeconds(120),
                    async () =>
                    {
                        seen = await client.GetTransferAsync(toHttp.Id);
                        return seen.State == "running" && seen.BytesMoved >= Size / 20 && seen.BytesMoved <= Size * 6 / 10;
                    },
                    () => Task.FromResult($"transfer {seen?.State}, {seen?.BytesMoved:N0} bytes moved"),
                    TimeSpan.FromMilliseconds(20));
                var victim = await ProcessTestKit.ScalarAsync<string>(group.DatabaseUrl, "SELECT node FROM jobs WHERE id = @id", ("id", toHttp.JobId));
                var survivor = victim == "worker-1" ? "worker-2" : "worker-1";
                group[victim].Kill();
                Assert.True(await group[victim].WaitForExitAsync(TimeSpan.FromSeconds(10)), $"{victim} did not die");
                var bytesAtKill = seen.BytesMoved;
                receiver.BytesPerSecond = null;

                var sent = await TransferClientExtensions.WaitUntilFinishedAsync(client, toHttp.Id, TimeSpan.FromMinutes(5));
                var written = await TransferClientExtensions.WaitUntilFinishedAsync(client, toDirectory.Id, TimeSpan.FromMinutes(5));
                var requests = receiver.Requests.Where(r => r.Path == "/inbox/large.bin").ToList();
                var attempts = await ProcessTestKit.QueryAsync(group.DatabaseUrl,
                    "SELECT job_id, attempt, node, outcome FROM job_attempts WHERE job_id = ANY(@ids) ORDER BY job_id, attempt",
                    r => (Job: r.GetGuid(0), Text: $"{r.GetInt32(1)}:{r.GetString(3)}@{r.GetString(2)}"), ("ids", new[] { toHttp.JobId, toDirectory.JobId }));
                string Attempts(Guid job) => string.Join(", ", attempts.Where(a => a.Job == job).Select(a => a.Text));
                output.Report($"transfers of 1 GiB: killed {victim} after {bytesAtKill:N0} bytes to the receiver; both ended after " +
                              $"{clock.Elapsed.TotalSeconds:F1} s: http {sent.State} ({Attempts(toHttp.JobId)}), directory {written.State} " +
                              $"({Attempts(toDirectory.JobId)}); the receiver saw " +
                              string.Join(", ", requests.Select(r => $"{(r.Complete ? "complete" : "incomplete")} {r.Length:N0} bytes → {r.Status}")));

                Assert.Equal(("completed", sha256), (sent.State, sent.Sha256));
                var accepted = Assert.Single(receiver.Accepted, r => r.Path == "/inbox/large.bin");
                Assert.Equal((Size, sha256), (accepted.Length, accepted.Sha256));
                Assert.Contains(requests, r => !r.Complete); // the killed worker's body, never whole
                Assert.All(requests, r => Assert.Equal($"transfer-{toHttp.Id}", r.IdempotencyKey));
                Assert.StartsWith("1:lost@" + victim, Attempts(toHttp.JobId));
                Assert.EndsWith(":succeeded@" + survivor, Attempts(toHttp.JobId));

                // The directory copy is on the disk of the worker that wrote it last, and only there, whole.
                Assert.Equal(("completed", sha256), (written.State, written.Sha256));
                var writer = attempts.Last(a => a.Job == toDirectory.JobId).Text.Split('@')[1];
                var copy = Path.Combine(folders, writer, "deliveries", tenant.Tenant.Id.ToString(), "inbox", "large.bin");
                Assert.Equal(Size, new FileInfo(copy).Length);
                await using (var file = File.OpenRead(copy)) Assert.Equal(sha256, Convert.ToHexStringLower(await SHA256.HashDataAsync(file)));
                var stray = nodes.Where(n => n.InstanceId != writer)
                    .SelectMany(n => Directory.EnumerateFiles(Path.Combine(folders, n.InstanceId, "deliveries"), "*", SearchOption.AllDirectories))
                    .Where(f => new FileInfo(f).Length == Size).ToList();
                Assert.True(stray.Count == 0, $"a complete copy on another node too: {string.Join(", ", stray)}");

                // The zip, parsed on a worker from its object in the bucket.
                var parsed = await DatasetClientExtensions.WaitUntilFinishedAsync(client, dataset.Id, TimeSpan.FromMinutes(3));
                Assert.True(parsed.State == "completed", $"{parsed.State}: {parsed.Error} (job: {parsed.Job?.LastError})");
                Assert.Equal((NamesHistory.RowsThrough(LastYear), 0L), (parsed.RowsInserted, parsed.RowsRejected));
                Assert.Equal((NamesHistory.RowsThrough(LastYear), (long)(LastYear - NamesHistory.FirstYear + 1)),
                    (await ProcessTestKit.QueryAsync(group.DatabaseUrl,
                        "SELECT count(*), count(DISTINCT year) FROM name_records WHERE dataset_id = @id",
                        r => (r.GetInt64(0), r.GetInt64(1)), ("id", dataset.Id))).Single());
                var top = await client.GetFromJsonAsync<TopNamesDto>($"/v1/names/top?country=US&year={LastYear}&sex=F&limit=1", JobClientExtensions.Json);
                var expected = NamesHistory.Lines(LastYear).First().Split(',');
                Assert.Equal([new NameCountDto(expected[0], "F", int.Parse(expected[2]))], top!.Names);

                // No node kept an upload's bytes (or a dataset's) on its own disk: only the directory deliveries are there.
                foreach (var (_, node) in nodes.Select(n => (n.ServiceType, n.InstanceId)))
                {
                    var kept = Directory.EnumerateFiles(Path.Combine(folders, node), "*", SearchOption.AllDirectories)
                        .Where(f => !f.StartsWith(Path.Combine(folders, node, "deliveries") + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                        .Select(f => new FileInfo(f))
                        .Where(f => f.Length > 0) // not the runtime's diagnostic sockets in TMPDIR
                        .ToList();
                    Assert.True(kept.Count == 0,
                        $"{node} kept {kept.Sum(f => f.Length):N0} bytes on its disk: {string.Join(", ", kept.Select(f => $"{f.FullName} ({f.Length:N0})"))}");
                }
                output.Report($"S3 cluster test: {total.Elapsed.TotalSeconds:F1} s in all; dataset of {parsed.RowsInserted:N0} rows {parsed.State}");
            });
        }
        finally
        {
            Directory.Delete(folders, recursive: true);
        }
    }

    /// <summary>
    /// A node's settings: the S3 store, and folders of its own under <paramref name="home"/> (the local store's root,
    /// unused with S3; temporary files; the user's home, where .NET keeps anything per user; the directory destination's root).
    /// </summary>
    private static Dictionary<string, string> NodeEnvironment(S3rver s3, string home)
    {
        Directory.CreateDirectory(Path.Combine(home, "tmp"));
        var env = s3.ServiceSettings().ToDictionary(kv => kv.Key.Replace(":", "__", StringComparison.Ordinal), kv => kv.Value!);
        env["Storage__Root"] = Path.Combine(home, "files");
        env["TMPDIR"] = Path.Combine(home, "tmp");
        env["HOME"] = home;
        env["Uploads__MaxBytes"] = (2L << 30).ToString();
        // Every node has the setting (the api node checks a path's shape, and its links where it sees the directory);
        // a worker writes under its own.
        Directory.CreateDirectory(Path.Combine(home, "deliveries"));
        env["Transfers__DirectoryRoot"] = Path.Combine(home, "deliveries");
        return env;
    }

    private static async Task<JsonElement> CompleteReadyAsync(HttpClient client, Guid id)
    {
        using var response = await PresignedUploads.CompleteAsync(client, id);
        await JobClientExtensions.EnsureSuccessAsync(response);
        var upload = await response.Content.ReadFromJsonAsync<JsonElement>(JobClientExtensions.Json);
        Assert.Equal("ready", upload.GetProperty("state").GetString());
        return upload;
    }
}
