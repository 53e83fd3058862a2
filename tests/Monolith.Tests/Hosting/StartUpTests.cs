using Monolith.Tests.Infrastructure;
using Npgsql;

namespace Monolith.Tests.Hosting;

public sealed class StartUpTests
{
    [Fact]
    public async Task NodesStartingTogether_OnAnEmptyDatabase_AllComeUp()
    {
        var databaseUrl = await TestDatabase.CreateAsync("race");
        var nodes = Enumerable.Range(0, 3).Select(_ => new MonolithFactory().OnDatabase(databaseUrl)).ToList();
        try
        {
            await Task.WhenAll(nodes.Select(n => Task.Run(((IAsyncLifetime)n).InitializeAsync)));

            foreach (var node in nodes)
            {
                using var client = node.CreateClient();
                Assert.Contains("\"status\":\"Healthy\"", await client.GetStringAsync("/health/ready"));
            }
            var client0 = await nodes[0].CreateTenantClientAsync();
            var job = await client0.SubmitJobAsync("noop", new { });
            await client0.WaitForStateAsync(job.Id, "succeeded");

            await using var connection = await TestDatabase.OpenAsync(databaseUrl);
            await using var count = new NpgsqlCommand(
                "SELECT count(*) FROM __ef_migrations_history", connection);
            Assert.Equal(TestDatabase.MigrationCount, await count.ExecuteScalarAsync()); // every migration applied once
        }
        finally
        {
            foreach (var node in nodes) await node.DisposeAsync();
        }
    }

    [Fact]
    public async Task Restart_OnAMigratedDatabase_ChangesNothing()
    {
        var databaseUrl = await TestDatabase.CreateAsync("restart");
        await using (var first = new MonolithFactory().OnDatabase(databaseUrl))
        {
            await ((IAsyncLifetime)first).InitializeAsync();
        }

        await using var second = new MonolithFactory().OnDatabase(databaseUrl);
        await ((IAsyncLifetime)second).InitializeAsync();

        using var client = second.CreateClient();
        Assert.Contains("\"status\":\"Healthy\"", await client.GetStringAsync("/health/ready"));
    }
}
