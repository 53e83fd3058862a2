using Microsoft.Extensions.DependencyInjection;
using Monolith.Domain.Datasets;
using Monolith.Domain.Jobs;
using Monolith.Domain.Persistence;
using Monolith.Tests.Features.Queues;
using Monolith.Tests.Infrastructure;
using Monolith.Worker.Engine;
using Monolith.Worker.Jobs.Datasets;
using Npgsql;

namespace Monolith.Tests.Features.Datasets;

/// <summary>
/// <see cref="DatasetCommands"/> and <see cref="DatasetJobEnded"/> against the real database: a reprocess's claim and
/// its job are one transaction, and a parse job's end marks its dataset in the transaction that ends the job.
/// </summary>
public sealed class DatasetCommandsTests(DatasetsFactory app) : IClassFixture<DatasetsFactory>
{
    private async Task<Guid> TenantAsync()
    {
        using var admin = app.CreateAdminClient();
        var created = await admin.PostJsonAsync<MonolithFactory.CreatedTenant>("/v1/admin/tenants", new { name = "tenant-" + Guid.NewGuid().ToString("N")[..8] });
        return created.Tenant.Id;
    }

    private async Task<T> InScopeAsync<T>(Func<IServiceProvider, Task<T>> work)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await work(scope.ServiceProvider);
    }

    private async Task<long> ScalarAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = await TestDatabase.OpenAsync(app.DatabaseUrl);
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Reprocess_RacingAnother_LeavesExactlyOneNewJob()
    {
        var tenantId = await TenantAsync();
        var datasetId = Guid.CreateVersion7();
        await QueueTestKit.ExecuteAsync(app.DatabaseUrl, """
            INSERT INTO datasets (id, tenant_id, country, format, file_name, storage_key, size_bytes, state, rows_inserted, rows_rejected,
                                  aggregate_rows, rows_superseded, created_at)
            VALUES (@id, @tenant, 'US', 'us_yob', 'yob2000.txt', 'datasets/none', 10, 'failed', 0, 0, 0, 0, now())
            """, ("id", datasetId), ("tenant", tenantId));

        // Hold the dataset's row, so both reprocesses read it idle and then wait on their claims; let go once both wait.
        await using var locker = await TestDatabase.OpenAsync(app.DatabaseUrl);
        await using var hold = await locker.BeginTransactionAsync();
        await using (var lockRow = new NpgsqlCommand("SELECT 1 FROM datasets WHERE id = @id FOR UPDATE", locker, hold))
        {
            lockRow.Parameters.AddWithValue("id", datasetId);
            await lockRow.ExecuteNonQueryAsync();
        }
        var racing = Enumerable.Range(0, 2)
            .Select(_ => InScopeAsync(sp => sp.GetRequiredService<DatasetCommands>().ReprocessAsync(tenantId, datasetId, CancellationToken.None)))
            .ToList();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (await ScalarAsync("""
                   SELECT count(*) FROM pg_stat_activity
                   WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'UPDATE%datasets%'
                   """) < 2)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "the two reprocesses never both waited on the dataset's row");
            Assert.DoesNotContain(racing, t => t.IsCompleted);
            await Task.Delay(20);
        }
        await hold.CommitAsync();
        var outcomes = await Task.WhenAll(racing);

        Assert.Equal([CommandStatus.Conflict, CommandStatus.Done], outcomes.Select(o => o.Status).OrderBy(s => s.ToString()));
        var winner = outcomes.Single(o => o.Status == CommandStatus.Done).Job!;
        Assert.Equal(1, await ScalarAsync(
            "SELECT count(*) FROM jobs WHERE type = 'reprocess_dataset' AND payload::jsonb ->> 'datasetId' = @id", ("id", datasetId.ToString())));
        // The row points at the winner's job (whose run may already have moved it on from uploaded: its file is not there).
        Assert.Equal(1, await ScalarAsync(
            "SELECT count(*) FROM datasets WHERE id = @id AND job_id = @job", ("id", datasetId), ("job", winner.Id)));
    }

    [Fact]
    public async Task AWaitingParseCancelled_MarksItsDatasetFailed()
    {
        var tenantId = await TenantAsync();
        var datasetId = Guid.CreateVersion7();
        var job = await InScopeAsync(async sp =>
        {
            var db = sp.GetRequiredService<MonolithDbContext>();
            return (await sp.GetRequiredService<JobClient>().SubmitWithRowAsync(tenantId, new ParseDatasetPayload(datasetId),
                new JobSettings(RunAt: DateTimeOffset.UtcNow.AddHours(1)), async (job, ct) =>
                {
                    db.Datasets.Add(new Dataset
                    {
                        Id = datasetId, TenantId = tenantId, Country = "US", Format = "us_yob", FileName = "yob2000.txt",
                        StorageKey = "datasets/none", State = DatasetState.Uploaded, JobId = job.Id, CreatedAt = DateTimeOffset.UtcNow,
                    });
                    await db.SaveChangesAsync(ct);
                    return true;
                }, CancellationToken.None))!;
        });

        var cancelled = await InScopeAsync(sp => sp.GetRequiredService<JobClient>().CancelAsync(tenantId, job.Id, CancellationToken.None));

        Assert.Equal((CommandStatus.Done, JobState.Cancelled), (cancelled.Status, cancelled.Job!.State));
        var dataset = await InScopeAsync(sp => sp.GetRequiredService<DatasetQueries>().GetAsync(tenantId, datasetId, CancellationToken.None));
        Assert.Equal((DatasetState.Failed, DatasetStatuses.CancelledError), (dataset!.State, dataset.Error));
        Assert.NotNull(dataset.FinishedAt);
    }
}
