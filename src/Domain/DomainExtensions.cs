using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Domain.Jobs;
using Monolith.Domain.Persistence;
using Monolith.Domain.Secrets;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Monolith.Domain;

public static class DomainExtensions
{
    /// <summary>
    /// The database: one <see cref="NpgsqlDataSource"/> (one connection pool) shared by EF Core, Quartz and the
    /// engine's LISTEN connection, the <see cref="MonolithDbContext"/>, and the stores built on it.
    /// </summary>
    public static IServiceCollection AddDomain(this IServiceCollection services, IConfiguration configuration)
    {
        // No Reset On Close: a pooled connection is not sent DISCARD ALL on every return (a round trip per use);
        // nothing here leaves session state behind (LISTEN runs on its own long-lived connection).
        var connectionString = new NpgsqlConnectionStringBuilder(ResolveConnectionString(configuration)) { NoResetOnClose = true }.ConnectionString;
        services.AddNpgsqlDataSource(connectionString);
        services.AddDbContext<MonolithDbContext>((sp, options) => options
            .UseNpgsql(sp.GetRequiredService<NpgsqlDataSource>(),
                npgsql => npgsql.MigrationsHistoryTable(DatabaseMigrator.HistoryTable))
            .UseSnakeCaseNamingConvention());
        services.AddScoped<JobStore>();
        services.AddScoped<JobQueries>();
        services.AddScoped<Queues.QueueFigures>();
        services.AddScoped<Datasets.DatasetQueries>();
        services.AddScoped<Transfers.TransferQueries>();
        services.AddScoped<Syncs.SyncQueries>();
        services.AddScoped<Schedules.ScheduleQueries>();
        services.AddScoped<Schedules.ScheduleRunPruning>();
        services.AddScoped<Imports.ImportQueries>();
        services.AddSingleton<DatabaseMigrator>();
        services.AddOptions<SecretOptions>().BindConfiguration(SecretOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<SecretOptions>, SecretOptions.Validator>();
        services.AddSingleton<SecretProtector>();
        services.AddSingleton<KeyedHash>();
        services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database");
        return services;
    }

    /// <summary><c>DATABASE_URL</c> (a postgres:// URL) wins; <c>ConnectionStrings:Postgres</c> is the alternative.</summary>
    public static string ResolveConnectionString(IConfiguration configuration)
    {
        var url = configuration["DATABASE_URL"];
        if (!string.IsNullOrWhiteSpace(url)) return DatabaseUrl.ToConnectionString(url);

        var connectionString = configuration.GetConnectionString("Postgres");
        if (!string.IsNullOrWhiteSpace(connectionString)) return connectionString;

        throw new InvalidOperationException(
            "No database configured: set DATABASE_URL (postgres://user:password@host:port/database) " +
            "or ConnectionStrings__Postgres. ./run.sh starts a local PostgreSQL when neither is set.");
    }
}
