using System.Net;
using Monolith.Tests.Infrastructure;
using Npgsql;

namespace Monolith.Tests.Features.Datasets;

/// <summary>The datasets service with a short driver command timeout (<c>Command Timeout</c> in DATABASE_URL).</summary>
public sealed class ShortCommandTimeoutFactory : DatasetsFactory
{
    public const int CommandTimeoutSeconds = 5;

    protected override Dictionary<string, string?> Settings => new(base.Settings)
    {
        ["DATABASE_URL"] = DatabaseUrl + (DatabaseUrl.Contains('?') ? "&" : "?") + $"Command%20Timeout={CommandTimeoutSeconds}",
    };
}

/// <summary>
/// Work on a dataset is bounded by the job's own timeout and cancellation (or the request's), not by the driver's
/// command timeout: with a 5 s driver timeout, a parse and a removal that wait 10 s on a lock held by another
/// transaction still finish, at the first attempt. (With Npgsql's default of 30 s, the same wait is what a large
/// file's delete or supersede runs into.)
/// </summary>
public sealed class DatasetStatementTimeoutTests(ShortCommandTimeoutFactory app) : IClassFixture<ShortCommandTimeoutFactory>, IDisposable
{
    private static readonly TimeSpan HeldPastTheTimeout = TimeSpan.FromSeconds(2 * ShortCommandTimeoutFactory.CommandTimeoutSeconds);
    private readonly TestFiles _files = new();

    public void Dispose() => _files.Dispose();

    /// <summary>Another transaction holding <c>name_records</c> in SHARE mode: no row can be inserted or deleted until it ends.</summary>
    private async Task<NpgsqlConnection> LockNameRecordsAsync()
    {
        var connection = await TestDatabase.OpenAsync(app.DatabaseUrl);
        await using var command = new NpgsqlCommand("BEGIN; LOCK TABLE name_records IN SHARE MODE", connection);
        await command.ExecuteNonQueryAsync();
        return connection;
    }

    /// <summary>Waits until a statement is blocked on the lock, then keeps it blocked past the driver's timeout, then commits.</summary>
    private async Task HoldPastTheTimeoutAsync(NpgsqlConnection locker)
    {
        await using (var watch = await TestDatabase.OpenAsync(app.DatabaseUrl))
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (true)
            {
                await using var waiting = new NpgsqlCommand(
                    "SELECT count(*) FROM pg_locks WHERE relation = 'name_records'::regclass AND NOT granted", watch);
                if ((long)(await waiting.ExecuteScalarAsync())! > 0) break;
                Assert.True(DateTime.UtcNow < deadline, "nothing waited on name_records within 30 s");
                await Task.Delay(20);
            }
        }
        await Task.Delay(HeldPastTheTimeout); // the point of the test: longer than the driver would wait
        await using var commit = new NpgsqlCommand("COMMIT", locker);
        await commit.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task AParseWaitingPastTheDriverTimeout_CompletesAtTheFirstAttempt()
    {
        var client = await app.CreateTenantClientAsync();
        await using var locker = await LockNameRecordsAsync();

        var created = await client.UploadAcceptedAsync(_files.WriteText("yob2011.txt", TestFiles.YobLines(perSex: 50)));
        await HoldPastTheTimeoutAsync(locker);
        var dataset = await client.WaitUntilFinishedAsync(created.Id, TimeSpan.FromSeconds(60));

        Assert.True(dataset.State == "completed", $"{dataset.State}: {dataset.Error} (job: {dataset.Job?.LastError})");
        Assert.Equal(100, await app.RecordCountAsync(created.Id));
        Assert.Single((await client.WaitForStateAsync(created.JobId, "succeeded")).Attempts);
    }

    [Fact]
    public async Task ARemovalWaitingPastTheDriverTimeout_Succeeds()
    {
        var client = await app.CreateTenantClientAsync();
        var created = await client.UploadAcceptedAsync(_files.WriteText("yob2012.txt", TestFiles.YobLines(perSex: 50)));
        Assert.Equal("completed", (await client.WaitUntilFinishedAsync(created.Id)).State);
        await using var locker = await LockNameRecordsAsync();

        var delete = client.DeleteAsync($"/v1/datasets/{created.Id}");
        await HoldPastTheTimeoutAsync(locker);
        using var response = await delete;

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(0, await app.RecordCountAsync(created.Id));
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/v1/datasets/{created.Id}")).StatusCode);
    }
}
