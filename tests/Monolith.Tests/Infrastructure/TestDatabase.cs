using Npgsql;

namespace Monolith.Tests.Infrastructure;

/// <summary>
/// The PostgreSQL server the tests run against (<c>MONOLITH_TEST_DATABASE_URL</c>, which ./test.sh sets after
/// starting a project-local server), and fresh databases on it: one per test class or process group, so no test
/// sees another's rows.
/// </summary>
public static class TestDatabase
{
    /// <summary>The EF Core migrations the service applies at start-up: one history row each once it ran.</summary>
    public static long MigrationCount { get; } = typeof(Monolith.Domain.Persistence.MonolithDbContext).Assembly.GetTypes()
        .Count(t => t.IsSubclassOf(typeof(Microsoft.EntityFrameworkCore.Migrations.Migration)));

    public static string ServerUrl =>
        Environment.GetEnvironmentVariable("MONOLITH_TEST_DATABASE_URL") is { Length: > 0 } url
            ? url
            : throw new InvalidOperationException(
                "MONOLITH_TEST_DATABASE_URL is not set: run the tests through ./test.sh, which starts a local PostgreSQL.");

    /// <summary>Creates an empty database and returns its postgres:// URL. The service migrates it at start-up.</summary>
    public static async Task<string> CreateAsync(string purpose)
    {
        var prefix = new string(purpose.ToLowerInvariant().Where(char.IsAsciiLetterOrDigit).Take(24).ToArray());
        var name = $"t_{prefix}_{Guid.NewGuid():N}";
        var builder = new UriBuilder(ServerUrl);
        await using (var connection = new NpgsqlConnection(Monolith.Domain.Persistence.DatabaseUrl.ToConnectionString(ServerUrl)))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await create.ExecuteNonQueryAsync();
        }
        builder.Path = "/" + name;
        return builder.Uri.ToString();
    }

    /// <summary>An open connection to a test database, to check rows with SQL.</summary>
    public static async Task<NpgsqlConnection> OpenAsync(string databaseUrl)
    {
        var connection = new NpgsqlConnection(Monolith.Domain.Persistence.DatabaseUrl.ToConnectionString(databaseUrl));
        await connection.OpenAsync();
        return connection;
    }
}
