using Microsoft.Extensions.DependencyInjection;
using Monolith.Domain.Transfers;
using Monolith.Tests.Infrastructure;
using Monolith.Worker.Engine;
using Monolith.Worker.Jobs.Transfers;
using Npgsql;

namespace Monolith.Tests.Features.Transfers;

/// <summary>
/// <see cref="TransferCommands"/> write a transfer's row and its job in one transaction: PostgreSQL is made to refuse
/// one of the two (a trigger that raises for the rows a test marks), and the other is then not left behind either.
/// </summary>
public sealed class TransferCommandsTests(MonolithFactory app) : IClassFixture<MonolithFactory>
{
    /// <summary>A callback URL the service accepts (127.0.0.1 is allow-listed in tests) that marks a job to refuse.</summary>
    private const string RefusedCallback = "http://127.0.0.1:1/refuse";

    [Fact]
    public async Task Create_WhoseRowIsRefused_LeavesNoJob()
    {
        var tenantId = await NewTenantAsync();
        await RefuseAsync("refuse_marked_transfers", "BEFORE INSERT ON transfers", "NEW.metadata ? 'refuse'");

        var refused = await Assert.ThrowsAnyAsync<Exception>(() =>
            CreateAsync(tenantId, UrlToHttp(metadata: new Dictionary<string, string> { ["refuse"] = "yes" })));
        Assert.Contains("refused by the test", refused.ToString());
        Assert.Equal((0L, 0L), await CountJobsAndTransfersAsync(tenantId)); // the job was stored first, and rolled back

        var created = await CreateAsync(tenantId, UrlToHttp());
        Assert.Equal(CommandStatus.Done, created.Status);
        Assert.Equal(created.Job!.Id, created.Row!.JobId);
        Assert.Equal((1L, 1L), await CountJobsAndTransfersAsync(tenantId));
    }

    [Fact]
    public async Task Create_WhoseJobIsRefused_LeavesNoRow()
    {
        var tenantId = await NewTenantAsync();
        await RefuseAsync("refuse_marked_jobs", "BEFORE INSERT ON jobs", $"NEW.callback_url = '{RefusedCallback}'");

        var refused = await Assert.ThrowsAnyAsync<Exception>(() => CreateAsync(tenantId, UrlToHttp(callbackUrl: RefusedCallback)));
        Assert.Contains("refused by the test", refused.ToString());
        Assert.Equal((0L, 0L), await CountJobsAndTransfersAsync(tenantId));

        Assert.Equal(CommandStatus.Done, (await CreateAsync(tenantId, UrlToHttp(callbackUrl: "http://127.0.0.1:1/accepted"))).Status);
        Assert.Equal((1L, 1L), await CountJobsAndTransfersAsync(tenantId));
    }

    [Fact]
    public async Task Retry_WhoseRowResetIsRefused_LeavesTheJobAsItWas_AndTheCancelIsOnTheRow()
    {
        var tenantId = await NewTenantAsync();
        var id = (await CreateAsync(tenantId, UrlToHttp())).Row!.Id;
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var cancel = await scope.ServiceProvider.GetRequiredService<TransferCommands>().CancelAsync(tenantId, id, CancellationToken.None);
            Assert.Equal(CommandStatus.Done, cancel.Status);
        }
        // TransferJobEnded writes the cancel on the row, in the transaction that ends the job.
        await WaitUntilAsync(async () => await StatesAsync(id) == ("cancelled", "cancelled"));

        await RefuseAsync("refuse_transfer_reset", "BEFORE UPDATE ON transfers", "OLD.state = 'cancelled' AND NEW.state = 'queued'");
        try
        {
            var refused = await Assert.ThrowsAnyAsync<Exception>(() => RetryAsync(tenantId, id));
            Assert.Contains("refused by the test", refused.ToString());
            Assert.Equal(("cancelled", "cancelled"), await StatesAsync(id)); // the job's new run was rolled back with the row's reset
        }
        finally
        {
            await ExecuteAsync("DROP TRIGGER refuse_transfer_reset ON transfers");
        }

        var retried = await RetryAsync(tenantId, id);
        Assert.Equal(CommandStatus.Done, retried.Status);
        Assert.Null(retried.Row!.Error);
        var (row, job) = await StatesAsync(id);
        Assert.NotEqual("cancelled", row);
        Assert.NotEqual("cancelled", job);
    }

    private static NewTransfer UrlToHttp(string? callbackUrl = null, Dictionary<string, string>? metadata = null) => new(
        new TransferSource(TransferSource.UrlType, Url: "http://127.0.0.1:1/doc"),
        new TransferDestination(TransferDestination.HttpType, Url: "http://127.0.0.1:1/in"),
        metadata,
        callbackUrl);

    /// <summary>Each command in its own scope, as each request has its own (a refused write leaves its DbContext unusable).</summary>
    private async Task<RowCommandOutcome<Transfer>> CreateAsync(Guid tenantId, NewTransfer request)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<TransferCommands>().CreateAsync(tenantId, request, CancellationToken.None);
    }

    private async Task<RowCommandOutcome<Transfer>> RetryAsync(Guid tenantId, Guid id)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<TransferCommands>().RetryAsync(tenantId, id, CancellationToken.None);
    }

    private async Task<Guid> NewTenantAsync()
    {
        using var admin = app.CreateAdminClient();
        return (await admin.PostJsonAsync<MonolithFactory.CreatedTenant>("/v1/admin/tenants", new { name = "commands-" + Guid.NewGuid().ToString("N")[..8] })).Tenant.Id;
    }

    /// <summary>A trigger <paramref name="name"/> (<paramref name="when"/> is its timing and table) raising for the rows <paramref name="condition"/> picks.</summary>
    private Task RefuseAsync(string name, string when, string condition) => ExecuteAsync($"""
        CREATE OR REPLACE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$;
        CREATE TRIGGER {name} {when} FOR EACH ROW WHEN ({condition}) EXECUTE FUNCTION test_refuse();
        """);

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = await TestDatabase.OpenAsync(app.DatabaseUrl);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>The tenant's transfer jobs (not the webhook deliveries a callback brings later) and transfers.</summary>
    private async Task<(long Jobs, long Transfers)> CountJobsAndTransfersAsync(Guid tenantId)
    {
        await using var connection = await TestDatabase.OpenAsync(app.DatabaseUrl);
        await using var command = new NpgsqlCommand(
            "SELECT (SELECT count(*) FROM jobs WHERE tenant_id = $1 AND type = 'transfer_document'), (SELECT count(*) FROM transfers WHERE tenant_id = $1)",
            connection);
        command.Parameters.Add(new NpgsqlParameter { Value = tenantId });
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    /// <summary>The transfer row's state and its job's, as stored.</summary>
    private async Task<(string Row, string Job)> StatesAsync(Guid transferId)
    {
        await using var connection = await TestDatabase.OpenAsync(app.DatabaseUrl);
        await using var command = new NpgsqlCommand("SELECT t.state, j.state FROM transfers t JOIN jobs j ON j.id = t.job_id WHERE t.id = $1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = transferId });
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        return (reader.GetString(0), reader.GetString(1));
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
