using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Monolith.Domain;
using Monolith.Domain.Persistence;
using Monolith.Worker.Engine;
using Monolith.Worker.Hosting;
using Npgsql;

namespace Monolith.Tests.Infrastructure;

/// <summary>
/// The PostgreSQL server the tests run against (<c>MONOLITH_TEST_DATABASE_URL</c>, which ./test.sh sets after
/// starting a project-local server), and fresh databases on it: one per test class or process group, so no test
/// sees another's rows.
/// A fresh database is a copy (<c>CREATE DATABASE … TEMPLATE</c>) of one migrated template per server, so a test
/// class does not pay for every migration: the service's start-up finds the schema up to date. The template is
/// named after what it holds (<see cref="TemplateName"/>): a checkout with other migrations or another Quartz
/// schema builds and uses its own, never a stale one.
/// </summary>
public static class TestDatabase
{
    /// <summary>The EF Core migrations the service applies at start-up: one history row each once it ran.</summary>
    public static long MigrationCount { get; } = typeof(MonolithDbContext).Assembly.GetTypes()
        .Count(t => t.IsSubclassOf(typeof(Migration)));

    /// <summary>
    /// <c>monolith_tpl_</c> and a hash of the migrations' SQL script and Quartz's schema script: the schema the
    /// template holds. Templates of other checkouts stay on the server; any of them may be dropped at any time
    /// (<c>ALTER DATABASE … IS_TEMPLATE false; DROP DATABASE …</c>) and is built again when next needed.
    /// </summary>
    public static string TemplateName => LazyTemplateName.Value;

    private static readonly Lazy<string> LazyTemplateName = new(ComputeTemplateName);

    /// <summary>The template of each server (a test may run on a server of its own), built at most once per run.</summary>
    private static readonly ConcurrentDictionary<string, Lazy<Task>> Templates = new();

    public static string ServerUrl =>
        Environment.GetEnvironmentVariable("MONOLITH_TEST_DATABASE_URL") is { Length: > 0 } url
            ? url
            : throw new InvalidOperationException(
                "MONOLITH_TEST_DATABASE_URL is not set: run the tests through ./test.sh, which starts a local PostgreSQL.");

    /// <summary>
    /// Creates a database holding the service's whole schema (EF Core migrations and Quartz's tables, no rows) and
    /// returns its postgres:// URL: a copy of the server's migrated template, which is built first if missing.
    /// </summary>
    public static async Task<string> CreateAsync(string purpose)
    {
        var serverUrl = ServerUrl;
        var template = Templates.GetOrAdd(serverUrl, url => new Lazy<Task>(() => EnsureTemplateAsync(url)));
        try
        {
            await template.Value;
        }
        catch
        {
            Templates.TryRemove(new KeyValuePair<string, Lazy<Task>>(serverUrl, template)); // the next caller tries again
            throw;
        }
        return await CreateDatabaseAsync(serverUrl, purpose, TemplateName);
    }

    /// <summary>
    /// Creates an EMPTY database and returns its postgres:// URL, for tests of the migrations and of the first
    /// start-up itself: the service migrates it at start-up.
    /// </summary>
    public static Task<string> CreateEmptyAsync(string purpose) => CreateDatabaseAsync(ServerUrl, purpose, template: null);

    /// <summary>An open connection to a test database, to check rows with SQL.</summary>
    public static async Task<NpgsqlConnection> OpenAsync(string databaseUrl)
    {
        var connection = new NpgsqlConnection(DatabaseUrl.ToConnectionString(databaseUrl));
        await connection.OpenAsync();
        return connection;
    }

    private static async Task<string> CreateDatabaseAsync(string serverUrl, string purpose, string? template)
    {
        var prefix = new string(purpose.ToLowerInvariant().Where(char.IsAsciiLetterOrDigit).Take(24).ToArray());
        var name = $"t_{prefix}_{Guid.NewGuid():N}";
        await using (var connection = await OpenAsync(serverUrl))
        {
            var sql = template is null ? $"CREATE DATABASE \"{name}\"" : $"CREATE DATABASE \"{name}\" TEMPLATE \"{template}\"";
            await using var create = new NpgsqlCommand(sql, connection);
            await create.ExecuteNonQueryAsync();
        }
        return WithDatabase(serverUrl, name);
    }

    private static string WithDatabase(string serverUrl, string database) =>
        new UriBuilder(serverUrl) { Path = "/" + database }.Uri.ToString();

    /// <summary>
    /// Builds the template unless a complete one is there. Under a PostgreSQL advisory lock, so that the test
    /// classes of this run and other runs on the same server build it once; complete means marked
    /// <c>IS_TEMPLATE</c>, the last step, so a template left half-built by a killed run is dropped and built again.
    /// The template accepts no connections (<c>ALLOW_CONNECTIONS false</c>): <c>CREATE DATABASE … TEMPLATE</c> fails
    /// while anyone is connected to it.
    /// </summary>
    private static async Task EnsureTemplateAsync(string serverUrl)
    {
        var template = TemplateName;
        await using var connection = await OpenAsync(serverUrl);
        await ExecuteAsync(connection, "SELECT pg_advisory_lock(hashtext(@name))", ("name", template));
        try
        {
            await using (var state = new NpgsqlCommand("SELECT datistemplate FROM pg_database WHERE datname = @name", connection))
            {
                state.Parameters.AddWithValue("name", template);
                switch (await state.ExecuteScalarAsync())
                {
                    case true:
                        return;
                    case false:
                        await ExecuteAsync(connection, $"DROP DATABASE \"{template}\" WITH (FORCE)");
                        break;
                }
            }
            await ExecuteAsync(connection, $"CREATE DATABASE \"{template}\"");
            await MigrateAsync(WithDatabase(serverUrl, template));
            await ExecuteAsync(connection, $"ALTER DATABASE \"{template}\" WITH ALLOW_CONNECTIONS false IS_TEMPLATE true");
            await ExecuteAsync(connection, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = @name", ("name", template));
        }
        finally
        {
            await ExecuteAsync(connection, "SELECT pg_advisory_unlock(hashtext(@name))", ("name", template));
        }
    }

    /// <summary>
    /// What a node's start-up does to an empty database (<see cref="SchemaSetup"/>: EF Core migrations, then Quartz's
    /// tables), without the Quartz lock rows it seeds for its own cluster: each node seeds its cluster's.
    /// </summary>
    private static async Task MigrateAsync(string databaseUrl)
    {
        await using (var services = DomainServices(databaseUrl))
        {
            var setup = new SchemaSetup(services.GetRequiredService<DatabaseMigrator>(),
                Options.Create(new WorkerOptions { ClusterName = "template" }), NullLogger<SchemaSetup>.Instance);
            await setup.StartAsync(CancellationToken.None);
            await using var connection = await OpenAsync(databaseUrl);
            await ExecuteAsync(connection, $"DELETE FROM {SchemaSetup.QuartzTablePrefix}locks");
            NpgsqlConnection.ClearPool(connection);
        } // disposing the services closes their connections too: none is left on the template
    }

    private static ServiceProvider DomainServices(string databaseUrl)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["DATABASE_URL"] = databaseUrl })
            .Build();
        return new ServiceCollection().AddLogging().AddDomain(configuration).BuildServiceProvider();
    }

    /// <summary>Hashes the SQL of every EF Core migration (so an edited migration counts too) and Quartz's schema script.</summary>
    private static string ComputeTemplateName()
    {
        using var services = DomainServices("postgres://postgres@127.0.0.1/unused"); // script generation opens no connection
        using var scope = services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<MonolithDbContext>();
        var migrations = db.GetService<IMigrator>().GenerateScript();
        using var quartz = typeof(Quartz.IJob).Assembly.GetManifestResourceStream("Quartz.Impl.AdoJobStore.Schema.create_postgres.sql")
                           ?? throw new InvalidOperationException("The Quartz assembly no longer ships its PostgreSQL schema script.");
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(Encoding.UTF8.GetBytes(migrations));
        using var script = new MemoryStream();
        quartz.CopyTo(script);
        sha.AppendData(script.ToArray());
        return "monolith_tpl_" + Convert.ToHexStringLower(sha.GetHashAndReset())[..16];
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, params (string Name, object Value)[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        await command.ExecuteNonQueryAsync();
    }
}
