using Monolith.Tests.Features.Datasets;
using Monolith.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Monolith.Tests.Processes;

/// <summary>
/// The worker parsing a dataset dies (SIGKILL) halfway through the file: the other worker parses it again from the
/// start, and the dataset ends with exactly the file's records, none twice (the parse deletes and inserts in one
/// transaction, so the killed attempt's uncommitted rows never existed).
/// </summary>
[Collection("Processes")]
public sealed class DatasetCrashTests(ITestOutputHelper output) : IDisposable
{
    private const int PerSex = 300_000; // 600,000 lines: several seconds of parsing, long enough to be caught halfway
    private readonly TestFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public async Task Worker_killed_mid_parse_leaves_exactly_the_files_records_after_recovery()
    {
        await using var group = await ProcessGroup.CreateAsync(nameof(DatasetCrashTests));
        var storage = Directory.CreateTempSubdirectory("monolith-crash-store-").FullName;
        try
        {
            // Every node sees the same files, as with a shared volume in production.
            var env = new Dictionary<string, string> { ["Storage__Root"] = storage, ["Datasets__BatchSize"] = "5000" };
            await output.WithLogsOnFailureAsync(group, async () =>
            {
                await group.StartAsync(
                    new NodeSpec("api", "api-1", env),
                    new NodeSpec("worker", "worker-1", env),
                    new NodeSpec("worker", "worker-2", env));
                using var client = group["api-1"].CreateClient();
                var path = _files.WriteText("yob1999.txt", Enumerable.Range(0, PerSex)
                    .SelectMany(i => new[] { $"{TestFiles.NameAt(i)},F,{PerSex + 5 - i}", $"{TestFiles.NameAt(i)},M,{PerSex + 5 - i}" }));

                var created = await client.UploadAcceptedAsync(path);

                // Wait until the parse is well under way, then kill the node running it.
                DatasetDto seen = null!;
                await ProcessTestKit.WaitUntilAsync("the parse is between 5 % and 80 %", TimeSpan.FromSeconds(60),
                    async () =>
                    {
                        seen = await client.GetDatasetAsync(created.Id);
                        return seen.Job?.State == "running" && seen.Job.Progress?.Percent is >= 5 and <= 80;
                    },
                    () => Task.FromResult($"dataset {seen?.State}, job {seen?.Job?.State} at {seen?.Job?.Progress?.Percent}%"),
                    TimeSpan.FromMilliseconds(20));
                var victim = await ProcessTestKit.ScalarAsync<string>(group.DatabaseUrl,
                    "SELECT node FROM jobs WHERE id = @id", ("id", created.JobId));
                var killedAt = DateTime.UtcNow;
                group[victim].Kill();
                Assert.True(await group[victim].WaitForExitAsync(TimeSpan.FromSeconds(10)), $"{victim} did not die");
                var percentAtKill = seen.Job!.Progress!.Percent;

                var done = await client.WaitUntilFinishedAsync(created.Id, TimeSpan.FromSeconds(120));
                var records = await ProcessTestKit.ScalarAsync<long>(group.DatabaseUrl,
                    "SELECT count(*) FROM name_records WHERE dataset_id = @id", ("id", created.Id));
                var distinct = await ProcessTestKit.ScalarAsync<long>(group.DatabaseUrl,
                    "SELECT count(*) FROM (SELECT DISTINCT name, sex, year FROM name_records WHERE dataset_id = @id) d", ("id", created.Id));
                var attempts = await ProcessTestKit.QueryAsync(group.DatabaseUrl,
                    "SELECT attempt, node, outcome FROM job_attempts WHERE job_id = @id ORDER BY attempt",
                    r => $"{r.GetInt32(0)}:{r.GetString(2)}@{r.GetString(1)}", ("id", created.JobId));
                output.Report($"killed {victim} at {percentAtKill}% of the parse; the dataset ended {done.State} " +
                              $"{(DateTime.UtcNow - killedAt).TotalSeconds:0.0} s later with {records:N0} records " +
                              $"({distinct:N0} distinct); attempts: {string.Join(", ", attempts)}");

                Assert.Equal("completed", done.State);
                Assert.Equal(2L * PerSex, done.RowsInserted);
                Assert.Equal(2L * PerSex, records);
                Assert.Equal(records, distinct);
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
