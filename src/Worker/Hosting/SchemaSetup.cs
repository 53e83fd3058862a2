using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Monolith.Domain.Persistence;
using Monolith.Worker.Engine;
using Npgsql;

namespace Monolith.Worker.Hosting;

/// <summary>
/// Runs first at start-up on every node: EF Core migrations, then Quartz's tables, under one PostgreSQL advisory
/// lock so that nodes starting together take turns. Quartz's own script (shipped inside the Quartz assembly)
/// only creates what is missing, so running it on every start is safe; Quartz then validates the schema.
/// It also seeds the cluster's rows in <c>qrtz_locks</c>: Quartz inserts a missing lock row inside its own
/// transaction, and two nodes doing that at once on a new database leave the loser's transaction aborted (25P02),
/// which fails that node's start.
/// </summary>
public sealed class SchemaSetup(DatabaseMigrator migrator, IOptions<WorkerOptions> options, ILogger<SchemaSetup> logger) : IHostedService
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
        await using (var locks = new NpgsqlCommand($"""
            INSERT INTO {QuartzTablePrefix}locks (sched_name, lock_name)
            VALUES (@cluster, 'TRIGGER_ACCESS'), (@cluster, 'STATE_ACCESS')
            ON CONFLICT DO NOTHING
            """, connection))
        {
            locks.Parameters.AddWithValue("cluster", options.Value.ClusterName);
            await locks.ExecuteNonQueryAsync(ct);
        }
        logger.LogInformation("Quartz schema checked ({Count} statements, nothing dropped)", count);
    }
}
