using Monolith.Tests.Infrastructure;
using Npgsql;

namespace Monolith.Tests.Worker.Engine;

public sealed class TicketRescuerTests(MonolithFactory app) : IClassFixture<MonolithFactory>
{
    [Fact]
    public async Task JobWhoseTicketWasLost_StillRuns()
    {
        var client = await app.CreateTenantClientAsync();
        var job = await client.SubmitJobAsync("noop", new { }, new { delaySeconds = 3 });

        // Lose the ticket, as a ticket spent on nothing would be: delete the dispatch trigger of this test's cluster
        // (the job's ticket is the only one: the database is this class's own), waiting or already acquired.
        await using (var connection = await TestDatabase.OpenAsync(app.DatabaseUrl))
        {
            await using var delete = new NpgsqlCommand(
                "DELETE FROM quartz.qrtz_triggers WHERE job_name = 'DispatchJob'", connection);
            Assert.Equal(1, await delete.ExecuteNonQueryAsync());
        }

        // Due after 3 s, stale after 10 s more, noticed within one 10 s round.
        var done = await client.WaitForStateAsync(job.Id, "succeeded", TimeSpan.FromSeconds(40));
        Assert.Equal(1, done.Attempt);
    }
}
