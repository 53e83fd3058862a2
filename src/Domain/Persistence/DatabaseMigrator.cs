using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Monolith.Domain.Persistence;

/// <summary>
/// Brings the database schema up to date at start-up. Every node does this; a PostgreSQL advisory lock makes
/// nodes that start at the same moment take turns, so the second finds the work done.
/// </summary>
public sealed class DatabaseMigrator(NpgsqlDataSource dataSource, IServiceScopeFactory scopes, ILogger<DatabaseMigrator> logger)
{
    /// <summary>The advisory lock key that serialises schema changes across nodes ("monolith" in ASCII).</summary>
    public const long SchemaLockKey = 0x6d6f6e6f6c697468;

    /// <summary>EF Core's migrations history table (set in DomainExtensions and DesignTimeDbContextFactory).</summary>
    public const string HistoryTable = "__ef_migrations_history";

    /// <summary>Applies the EF Core migrations, then <paramref name="afterMigrations"/> (the Quartz schema), under the lock.</summary>
    public async Task MigrateAsync(Func<NpgsqlConnection, CancellationToken, Task>? afterMigrations, CancellationToken ct)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        // No command timeout on the wait: the node holding the lock is migrating, which under load can take longer
        // than the default 30 s (seen with three nodes starting together on a loaded machine); if it dies, its
        // session ends and the lock is released.
        await using (var lockCommand = new NpgsqlCommand($"SELECT pg_advisory_lock({SchemaLockKey})", connection) { CommandTimeout = 0 })
        {
            await lockCommand.ExecuteNonQueryAsync(ct);
        }

        try
        {
            using var scope = scopes.CreateScope();
            var db = scope.ServiceProvider.GetRequiredService<MonolithDbContext>();
            var locked = clock.Elapsed;
            // On an empty database EF Core reads its history table before creating it, and logs that failed read at
            // Error (npgsql/efcore.pg#3407), which a newcomer takes for a failed start: create it first, from EF
            // Core's own script, so the first start logs nothing alarming.
            if (!await HistoryTableExistsAsync(connection, ct))
            {
                await using var create = new NpgsqlCommand(db.GetService<IHistoryRepository>().GetCreateIfNotExistsScript(), connection);
                await create.ExecuteNonQueryAsync(ct);
            }
            // MigrateAsync also diffs the model against the snapshot, which costs seconds of CPU at every start;
            // when every migration is already applied (the usual restart), there is nothing for it to do.
            if (await HasPendingMigrationsAsync(connection, db, ct)) await db.Database.MigrateAsync(ct);
            var migrated = clock.Elapsed;
            // Build the runtime model now, once: the first requests must not race to build it (seen under load).
            await db.Tenants.AnyAsync(ct);
            if (afterMigrations is not null) await afterMigrations(connection, ct);
            logger.LogInformation("Database schema is up to date (lock {LockMs:0} ms, EF migrations {MigrateMs:0} ms, total {TotalMs:0} ms)",
                locked.TotalMilliseconds, (migrated - locked).TotalMilliseconds, clock.Elapsed.TotalMilliseconds);
        }
        finally
        {
            await using var unlock = new NpgsqlCommand($"SELECT pg_advisory_unlock({SchemaLockKey})", connection);
            await unlock.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    private static async Task<bool> HistoryTableExistsAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        await using var exists = new NpgsqlCommand($"SELECT to_regclass('{HistoryTable}') IS NOT NULL", connection);
        return (bool)(await exists.ExecuteScalarAsync(ct))!;
    }

    private static async Task<bool> HasPendingMigrationsAsync(NpgsqlConnection connection, MonolithDbContext db, CancellationToken ct)
    {
        var applied = new HashSet<string>();
        await using (var read = new NpgsqlCommand($"SELECT migration_id FROM {HistoryTable}", connection))
        await using (var reader = await read.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct)) applied.Add(reader.GetString(0));
        }
        return db.Database.GetMigrations().Any(m => !applied.Contains(m));
    }
}
