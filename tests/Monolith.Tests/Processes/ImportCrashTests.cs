using System.Text;
using Monolith.Tests.Features.Datasets;
using Monolith.Tests.Features.Imports;
using Monolith.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Monolith.Tests.Processes;

/// <summary>
/// The worker running an import dies (SIGKILL) in the middle; the other worker resumes it from the last committed
/// checkpoint. The snapshot ends with exactly the file's records, and only the rows after the checkpoint were written
/// again (each batch and its checkpoint commit together, so the killed attempt's uncommitted batch never existed).
/// </summary>
[Collection("Processes")]
public sealed class ImportCrashTests(ITestOutputHelper output) : IDisposable
{
    private const int Rows = 200_000, BatchSize = 2_000;
    private readonly TestFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public async Task Worker_killed_mid_import_resumes_on_the_other_from_the_checkpoint_with_exactly_the_files_records()
    {
        await using var group = await ProcessGroup.CreateAsync(nameof(ImportCrashTests));
        var storage = Directory.CreateTempSubdirectory("monolith-crash-store-").FullName;
        try
        {
            // Every node sees the same files, as with a shared volume in production.
            var env = new Dictionary<string, string> { ["Storage__Root"] = storage, ["Imports__BatchSize"] = BatchSize.ToString() };
            await output.WithLogsOnFailureAsync(group, async () =>
            {
                await group.StartAsync(new NodeSpec("api", "api-1", env));
                await group.StartAsync(new NodeSpec("worker", "worker-1", env), new NodeSpec("worker", "worker-2", env));
                using var client = group["api-1"].CreateClient();
                var path = _files.WriteBytes("orders.csv", Encoding.UTF8.GetBytes(
                    "id,customer,note\n" + string.Concat(Enumerable.Range(1, Rows).Select(i => $"{i},customer {i % 977},\"line {i}, with a comma\"\n"))));

                var created = await client.ImportAcceptedAsync(path, "crash", "id");

                ImportDto seen = null!;
                await ProcessTestKit.WaitUntilAsync("the import is between 10 % and 70 % of its rows", TimeSpan.FromSeconds(60),
                    async () =>
                    {
                        seen = await client.GetImportAsync(created.Id);
                        return seen.Job?.State == "running" && seen.RowsRead is >= Rows / 10 and <= Rows * 7 / 10;
                    },
                    () => Task.FromResult($"import {seen?.State} at {seen?.RowsRead} rows, job {seen?.Job?.State}"),
                    TimeSpan.FromMilliseconds(20));
                var victim = await ProcessTestKit.ScalarAsync<string>(group.DatabaseUrl, "SELECT node FROM jobs WHERE id = @id", ("id", created.JobId));
                group[victim].Kill();
                Assert.True(await group[victim].WaitForExitAsync(TimeSpan.FromSeconds(10)), $"{victim} did not die");
                // Nothing commits now until the other worker takes the job over (seconds later): this is the checkpoint it resumes from.
                var checkpoint = await ProcessTestKit.ScalarAsync<long>(group.DatabaseUrl, "SELECT checkpoint_rows FROM imports WHERE id = @id", ("id", created.Id));
                var killedAt = await ProcessTestKit.ScalarAsync<DateTime>(group.DatabaseUrl, "SELECT now()::timestamp");

                var done = await client.WaitForImportAsync(created.Id, TimeSpan.FromSeconds(120));
                var records = await ProcessTestKit.ScalarAsync<long>(group.DatabaseUrl,
                    "SELECT count(*) FROM snapshot_records WHERE snapshot = 'crash' AND import_id = @id", ("id", created.Id));
                var rewritten = await ProcessTestKit.ScalarAsync<long>(group.DatabaseUrl,
                    "SELECT count(*) FROM snapshot_records WHERE snapshot = 'crash' AND fetched_at::timestamp > @at", ("at", killedAt));
                var attempts = await ProcessTestKit.QueryAsync(group.DatabaseUrl,
                    "SELECT attempt, node, outcome FROM job_attempts WHERE job_id = @id ORDER BY attempt",
                    r => $"{r.GetInt32(0)}:{r.GetString(2)}@{r.GetString(1)}", ("id", created.JobId));
                output.Report($"killed {victim} at checkpoint {checkpoint:N0} of {Rows:N0} rows; the import ended {done.State} with " +
                              $"{done.RecordsUpserted:N0} records ({records:N0} in the snapshot), {rewritten:N0} written after the kill; " +
                              $"attempts: {string.Join(", ", attempts)}");

                Assert.Equal("completed", done.State);
                Assert.Equal((Rows, Rows, 0L), (done.RowsRead, done.RecordsUpserted, done.RowsRejected));
                Assert.Equal(Rows, records);
                Assert.Equal(0, checkpoint % BatchSize);
                Assert.InRange(checkpoint, BatchSize, Rows - BatchSize);
                Assert.Equal(Rows - checkpoint, rewritten); // the resumed run wrote only what came after the checkpoint
                Assert.Contains(attempts, a => a.StartsWith("1:lost@" + victim, StringComparison.Ordinal));
                Assert.Contains(attempts, a => a.Contains(":succeeded@", StringComparison.Ordinal) && !a.EndsWith(victim, StringComparison.Ordinal));
            });
        }
        finally
        {
            Directory.Delete(storage, recursive: true);
        }
    }
}
