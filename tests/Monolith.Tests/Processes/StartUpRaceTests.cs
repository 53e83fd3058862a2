using Monolith.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Monolith.Tests.Processes;

[Collection("Processes")]
public sealed class StartUpRaceTests(ITestOutputHelper output)
{
    [Fact]
    public async Task TwoNodesStartingAtTheSameInstant_OnAnEmptyDatabase_BothComeUp()
    {
        await using var group = await ProcessGroup.CreateEmptyAsync("race");

        var nodes = await group.StartAsync(new NodeSpec("all", "node-1"), new NodeSpec("all", "node-2")); // in parallel

        await output.WithLogsOnFailureAsync(group, async () =>
        {
            Assert.Equal(TestDatabase.MigrationCount, await ProcessTestKit.ScalarAsync<long>(group.DatabaseUrl, "SELECT count(*) FROM __ef_migrations_history"));
            foreach (var node in nodes)
            {
                using var client = node.CreateClient();
                var job = await client.SubmitJobAsync("noop", new { });
                await client.WaitForStateAsync(job.Id, "succeeded");
            }
            output.Report("two nodes started together on an empty database: both ready, migrations applied once");
        });
    }
}
