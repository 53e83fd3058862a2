using Monolith.Domain.Persistence;
using Monolith.Worker.Hosting;
using Npgsql;

namespace Monolith.Tests.Infrastructure;

/// <summary>Test databases: copies of one migrated template, or empty when asked.</summary>
public sealed class TestDatabaseTests
{
    [Fact]
    public async Task CreateAsync_InParallel_GivesSeparateCopiesOfTheWholeSchema_WithoutAnotherClustersLocks()
    {
        var urls = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => TestDatabase.CreateAsync($"clone{i}")));

        Assert.Equal(4, urls.Distinct().Count());
        foreach (var url in urls)
        {
            await using var connection = await TestDatabase.OpenAsync(url);
            Assert.Equal(TestDatabase.MigrationCount, await ScalarAsync<long>(connection, $"SELECT count(*) FROM {DatabaseMigrator.HistoryTable}"));
            Assert.True(await ScalarAsync<bool>(connection, $"SELECT to_regclass('{SchemaSetup.QuartzTablePrefix}fired_triggers') IS NOT NULL"));
            // Each node seeds its own cluster's lock rows; the template holds none of another's.
            Assert.Equal(0L, await ScalarAsync<long>(connection, $"SELECT count(*) FROM {SchemaSetup.QuartzTablePrefix}locks"));
        }
    }

    [Fact]
    public async Task CreateEmptyAsync_GivesADatabaseWithoutTheSchema()
    {
        await using var connection = await TestDatabase.OpenAsync(await TestDatabase.CreateEmptyAsync("empty"));

        Assert.False(await ScalarAsync<bool>(connection, $"SELECT to_regclass('{DatabaseMigrator.HistoryTable}') IS NOT NULL"));
    }

    [Fact]
    public async Task Template_IsMarkedComplete_AndRefusesConnections_SoCopyingItNeverFails()
    {
        await TestDatabase.CreateAsync("template");

        await using var server = await TestDatabase.OpenAsync(TestDatabase.ServerUrl);
        await using var command = new NpgsqlCommand("SELECT datistemplate AND NOT datallowconn FROM pg_database WHERE datname = @name", server);
        command.Parameters.AddWithValue("name", TestDatabase.TemplateName);
        Assert.Equal(true, await command.ExecuteScalarAsync());
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
