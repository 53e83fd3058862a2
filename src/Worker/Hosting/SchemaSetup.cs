using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Monolith.Domain.Persistence;
using Npgsql;

namespace Monolith.Worker.Hosting;

/// <summary>
/// Runs first at start-up on every node: EF Core migrations, then Quartz's tables, under one PostgreSQL advisory
/// lock so that nodes starting together take turns. Quartz's own script (shipped inside the Quartz assembly)
/// only creates what is missing, so running it on every start is safe; Quartz then validates the schema.
/// </summary>
public sealed class SchemaSetup(DatabaseMigrator migrator, ILogger<SchemaSetup> logger) : IHostedService
{
    /// <summary>Quartz's tables live in their own schema, apart from ours.</summary>
    public const string QuartzSchema = "quartz";
    public const string QuartzTablePrefix = QuartzSchema + ".qrtz_";

    public Task StartAsync(CancellationToken cancellationToken) =>
        migrator.MigrateAsync(CreateQuartzSchemaAsync, cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task CreateQuartzSchemaAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        await using (var schema = new NpgsqlCommand($"CREATE SCHEMA IF NOT EXISTS {QuartzSchema}", connection))
        {
            await schema.ExecuteNonQueryAsync(ct);
        }

        await using var script = typeof(Quartz.IJob).Assembly
            .GetManifestResourceStream("Quartz.Impl.AdoJobStore.Schema.create_postgres.sql")
            ?? throw new InvalidOperationException("The Quartz assembly no longer ships its PostgreSQL schema script.");
        var sql = await new StreamReader(script).ReadToEndAsync(ct);
        var statements = sql
            .Replace("{0}", QuartzTablePrefix).Replace("{1}", "qrtz_")
            .Split("\n--;;", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(s => s.Split('\n').Any(line => line.Trim().Length > 0 && !line.TrimStart().StartsWith("--", StringComparison.Ordinal)));
        var count = 0;
        foreach (var statement in statements)
        {
            await using var command = new NpgsqlCommand(statement, connection);
            await command.ExecuteNonQueryAsync(ct);
            count++;
        }
        logger.LogInformation("Quartz schema checked ({Count} statements, nothing dropped)", count);
    }
}
