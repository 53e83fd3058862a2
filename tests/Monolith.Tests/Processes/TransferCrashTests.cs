using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Monolith.Tests.Features.Transfers;
using Monolith.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Monolith.Tests.Processes;

/// <summary>
/// The worker sending a large document (200 MB, to a receiver that reads it slowly) is SIGKILLed midway: the other
/// worker sends it again, with the same Idempotency-Key, and the receiver ends with exactly one complete copy whose
/// SHA-256 is the document's; the body the killed worker was sending never arrived whole.
/// </summary>
[Collection("Processes")]
public sealed class TransferCrashTests(ITestOutputHelper output)
{
    private const int Megabytes = 200;

    [Fact]
    public async Task Worker_killed_mid_transfer_leaves_exactly_one_complete_verified_copy_after_recovery()
    {
        await using var group = await ProcessGroup.CreateAsync(nameof(TransferCrashTests));
        await using var receiver = await LoopbackServer.StartAsync();
        receiver.BytesPerSecond = 25L << 20; // 8 s per whole copy: long enough to be caught midway
        var storage = Directory.CreateTempSubdirectory("monolith-crash-uploads-").FullName;
        var document = Path.Combine(Directory.CreateTempSubdirectory("monolith-crash-doc-").FullName, "large.bin");
        try
        {
            var sha256 = await WriteRandomFileAsync(document, Megabytes);
            var env = new Dictionary<string, string>
            {
                ["Storage__Root"] = storage, // every node sees the same files, as with a shared volume
                ["Uploads__MaxBytes"] = (1L << 30).ToString(),
                ["Transfers__ProgressIntervalBytes"] = (4L << 20).ToString(),
            };
            await output.WithLogsOnFailureAsync(group, async () =>
            {
                await group.StartAsync(
                    new NodeSpec("api", "api-1", env),
                    new NodeSpec("worker", "worker-1", env),
                    new NodeSpec("worker", "worker-2", env));
                using var admin = group["api-1"].CreateClient();
                var tenant = await admin.PostJsonAsync<MonolithFactory.CreatedTenant>("/v1/admin/tenants", new { name = "crash" });
                using var client = group["api-1"].CreateClient(tenant.ApiKey.Key);
                client.Timeout = TimeSpan.FromMinutes(2);

                UploadDto upload;
                await using (var file = File.OpenRead(document))
                {
                    using var body = new StreamContent(file);
                    body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                    using var response = await client.PostAsync("/v1/uploads?filename=large.bin", body);
                    await JobClientExtensions.EnsureSuccessAsync(response);
                    upload = (await response.Content.ReadFromJsonAsync<UploadDto>(JobClientExtensions.Json))!;
                }
                Assert.Equal(sha256, upload.Sha256);

                var created = await client.CreateTransferAsync(new
                {
                    source = new { type = "upload", uploadId = upload.Id },
                    destination = new { type = "http", url = receiver.Url("/inbox/large.bin"), method = "PUT" },
                });

                // Wait until the copy is well under way, then kill the node sending it.
                TransferDto seen = null!;
                await ProcessTestKit.WaitUntilAsync("the copy is between 10 % and 70 %", TimeSpan.FromSeconds(60),
                    async () =>
                    {
                        seen = await client.GetTransferAsync(created.Id);
                        return seen.State == "running" && seen.BytesMoved >= Megabytes * (1L << 20) / 10 && seen.BytesMoved <= Megabytes * (1L << 20) * 7 / 10;
                    },
                    () => Task.FromResult($"transfer {seen?.State}, {seen?.BytesMoved:N0} bytes moved"),
                    TimeSpan.FromMilliseconds(20));
                var victim = await ProcessTestKit.ScalarAsync<string>(group.DatabaseUrl, "SELECT node FROM jobs WHERE id = @id", ("id", created.JobId));
                group[victim].Kill();
                Assert.True(await group[victim].WaitForExitAsync(TimeSpan.FromSeconds(10)), $"{victim} did not die");
                var bytesAtKill = seen.BytesMoved;

                receiver.BytesPerSecond = null; // the second copy may go at full speed
                var done = await client.WaitUntilFinishedAsync(created.Id, TimeSpan.FromSeconds(180));
                var requests = receiver.Requests.Where(r => r.Path == "/inbox/large.bin").ToList();
                var attempts = await ProcessTestKit.QueryAsync(group.DatabaseUrl,
                    "SELECT attempt, node, outcome FROM job_attempts WHERE job_id = @id ORDER BY attempt",
                    r => $"{r.GetInt32(0)}:{r.GetString(2)}@{r.GetString(1)}", ("id", created.JobId));
                output.Report($"killed {victim} after {bytesAtKill:N0} of {Megabytes << 20:N0} bytes; the transfer ended {done.State}; " +
                              $"the receiver saw {requests.Count} request(s): " +
                              string.Join(", ", requests.Select(r => $"{(r.Complete ? "complete" : "incomplete")} {r.Length:N0} bytes → {r.Status}")) +
                              $"; attempts: {string.Join(", ", attempts)}");

                Assert.Equal("completed", done.State);
                Assert.Equal(sha256, done.Sha256);
                var accepted = Assert.Single(receiver.Accepted, r => r.Path == "/inbox/large.bin");
                Assert.Equal(sha256, accepted.Sha256);
                Assert.Equal((long)Megabytes << 20, accepted.Length);
                Assert.All(requests, r => Assert.Equal($"transfer-{created.Id}", r.IdempotencyKey));
                Assert.Contains(requests, r => !r.Complete); // the killed worker's body, discarded by the receiver
                Assert.Contains(attempts, a => a.StartsWith("1:lost@" + victim, StringComparison.Ordinal));
                Assert.Contains(attempts, a => a.Contains(":succeeded@", StringComparison.Ordinal) && !a.EndsWith(victim, StringComparison.Ordinal));
            });
        }
        finally
        {
            Directory.Delete(storage, recursive: true);
            Directory.Delete(Path.GetDirectoryName(document)!, recursive: true);
        }
    }

    /// <summary>Random bytes (nothing compresses or repeats), written in 1 MB blocks; returns their SHA-256.</summary>
    private static async Task<string> WriteRandomFileAsync(string path, int megabytes)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using var file = File.Create(path);
        var block = new byte[1 << 20];
        for (var i = 0; i < megabytes; i++)
        {
            RandomNumberGenerator.Fill(block);
            hash.AppendData(block);
            await file.WriteAsync(block);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
