using Microsoft.Extensions.DependencyInjection;
using Monolith.Domain.Imports;
using Monolith.Tests.Infrastructure;
using Monolith.Worker.Engine;
using Monolith.Worker.Jobs.Imports;
using Npgsql;

namespace Monolith.Tests.Features.Imports;

/// <summary>
/// <see cref="ImportCommands"/> write an import's row and its job in one transaction: PostgreSQL is made to refuse one of
/// the two (a trigger that raises for the rows a test marks), and the other is then not left behind either. Two
/// reprocesses at once leave exactly one new job.
/// </summary>
public sealed class ImportCommandsTests(ImportsFactory app) : IClassFixture<ImportsFactory>
{
    /// <summary>A callback URL the service accepts (127.0.0.1 is allow-listed in tests) that marks a job to refuse.</summary>
    private const string RefusedCallback = "http://127.0.0.1:1/refuse";

    [Fact]
    public async Task Create_WhoseRowIsRefused_LeavesNoJob()
    {
        var tenantId = await NewTenantAsync();
        await ExecuteAsync("""
            CREATE OR REPLACE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$;
            CREATE TRIGGER refuse_marked_imports BEFORE INSERT ON imports FOR EACH ROW WHEN (NEW.snapshot = 'refuse') EXECUTE FUNCTION test_refuse();
            """);

        var refused = await Assert.ThrowsAnyAsync<Exception>(() => CreateAsync(tenantId, "refuse"));
        Assert.Contains("refused by the test", refused.ToString());
        Assert.Equal((0L, 0L), await CountJobsAndImportsAsync(tenantId)); // the job was stored first, and rolled back

        var created = await CreateAsync(tenantId, "accepted");
        Assert.Equal(CommandStatus.Done, created.Status);
        Assert.Equal(created.Job!.Id, created.Row!.JobId);
        Assert.Equal((1L, 1L), await CountJobsAndImportsAsync(tenantId));
    }

    [Fact]
    public async Task Create_WhoseJobIsRefused_LeavesNoRow()
    {
        var tenantId = await NewTenantAsync();
        await ExecuteAsync($"""
            CREATE OR REPLACE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$;
            CREATE TRIGGER refuse_marked_import_jobs BEFORE INSERT ON jobs FOR EACH ROW WHEN (NEW.callback_url = '{RefusedCallback}') EXECUTE FUNCTION test_refuse();
            """);

        var refused = await Assert.ThrowsAnyAsync<Exception>(() => CreateAsync(tenantId, "refused-job", RefusedCallback));
        Assert.Contains("refused by the test", refused.ToString());
        Assert.Equal((0L, 0L), await CountJobsAndImportsAsync(tenantId));
    }

    [Fact]
    public async Task Reprocess_RacingAnother_LeavesExactlyOneNewJob()
    {
        var tenantId = await NewTenantAsync();
        // No file is stored under the key: the job fails at once, and the import is failed, so it may be reprocessed.
        var id = (await CreateAsync(tenantId, "racing")).Row!.Id;
        await WaitUntilAsync(async () => await StateAsync(id) == "failed");

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 2).Select(async _ =>
        {
            await using var scope = app.Services.CreateAsyncScope();
            return await scope.ServiceProvider.GetRequiredService<ImportCommands>().ReprocessAsync(tenantId, id, CancellationToken.None);
        }));

        Assert.Equal((1, 1), (outcomes.Count(o => o.Status == CommandStatus.Done), outcomes.Count(o => o.Status == CommandStatus.Conflict)));
        var done = outcomes.Single(o => o.Status == CommandStatus.Done);
        Assert.Equal(done.Job!.Id, done.Row!.JobId);
        Assert.Equal((2L, 1L), await CountJobsAndImportsAsync(tenantId)); // the first job and one reprocess
    }

    /// <summary>Each command in its own scope, as each request has its own (a refused write leaves its DbContext unusable).</summary>
    private async Task<RowCommandOutcome<Import>> CreateAsync(Guid tenantId, string snapshot, string? callbackUrl = null)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var id = Guid.CreateVersion7();
        return await scope.ServiceProvider.GetRequiredService<ImportCommands>().CreateAsync(tenantId, id, ImportCommands.StorageKeyOf(tenantId, id),
            "missing.csv", 10, new NewImport(snapshot, "id", null, null, null, null, callbackUrl), CancellationToken.None);
    }

    private async Task<Guid> NewTenantAsync()
    {
        using var admin = app.CreateAdminClient();
        return (await admin.PostJsonAsync<MonolithFactory.CreatedTenant>("/v1/admin/tenants", new { name = "imports-" + Guid.NewGuid().ToString("N")[..8] })).Tenant.Id;
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = await TestDatabase.OpenAsync(app.DatabaseUrl);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private async Task<(long Jobs, long Imports)> CountJobsAndImportsAsync(Guid tenantId)
    {
        await using var connection = await TestDatabase.OpenAsync(app.DatabaseUrl);
        await using var command = new NpgsqlCommand(
            "SELECT (SELECT count(*) FROM jobs WHERE tenant_id = $1 AND type = 'import_records'), (SELECT count(*) FROM imports WHERE tenant_id = $1)",
            connection);
        command.Parameters.Add(new NpgsqlParameter { Value = tenantId });
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    private async Task<string> StateAsync(Guid importId)
    {
        await using var connection = await TestDatabase.OpenAsync(app.DatabaseUrl);
        await using var command = new NpgsqlCommand("SELECT state FROM imports WHERE id = $1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = importId });
        return (string)(await command.ExecuteScalarAsync())!;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The condition did not hold within 20 s.");
            await Task.Delay(50);
        }
    }
}
