using System.Text.RegularExpressions;
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
public sealed partial class SchemaSetup(DatabaseMigrator migrator, IOptions<WorkerOptions> options, ILogger<SchemaSetup> logger) : IHostedService
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
        // Each statement creates one table or index "IF NOT EXISTS". One that exists is not sent at all: even a no-op
        // CREATE INDEX takes a lock on its table first, and a node frozen inside a transaction on that table (SIGSTOP, a
        // paused VM) would hold a starting node there until its command timed out.
        var statementsByObject = statements.Select(s => (Statement: s, Object: CreatedObject(s))).ToList();
        var missing = new HashSet<string>(StringComparer.Ordinal);
        await using (var check = new NpgsqlCommand("SELECT name FROM unnest(@names) AS name WHERE to_regclass(name) IS NULL", connection))
        {
            check.Parameters.AddWithValue("names", statementsByObject.Select(s => s.Object).OfType<string>().ToArray());
            await using var reader = await check.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) missing.Add(reader.GetString(0));
        }
        var count = 0;
        foreach (var (statement, createdObject) in statementsByObject)
        {
            if (createdObject is not null && !missing.Contains(createdObject)) continue;
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
        logger.LogInformation("Quartz schema checked ({Count} of {Total} statements run, nothing dropped)", count, statementsByObject.Count);
    }

    /// <summary>The schema-qualified name of the table or index a <c>CREATE … IF NOT EXISTS</c> statement makes, else null.</summary>
    private static string? CreatedObject(string statement)
    {
        var match = CreateIfNotExists().Match(statement);
        if (!match.Success) return null;
        var name = match.Groups[1].Value;
        return name.Contains('.') ? name : $"{QuartzSchema}.{name}"; // an index lives in its table's schema
    }

    [GeneratedRegex(@"^\s*CREATE\s+(?:TABLE|INDEX)\s+IF\s+NOT\s+EXISTS\s+([A-Za-z0-9_.]+)", RegexOptions.IgnoreCase | RegexOptions.Multiline)]
    private static partial Regex CreateIfNotExists();
}
