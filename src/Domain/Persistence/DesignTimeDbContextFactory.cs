using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Monolith.Domain.Persistence;

/// <summary>
/// Lets <c>dotnet ef migrations add Name --project src/Domain</c> build the model without starting the service.
/// The connection string is never opened when only a migration is generated.
/// </summary>
public sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<MonolithDbContext>
{
    public MonolithDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<MonolithDbContext>()
            .UseNpgsql("Host=127.0.0.1;Database=monolith_design", npgsql => npgsql.MigrationsHistoryTable(DatabaseMigrator.HistoryTable))
            .UseSnakeCaseNamingConvention()
            .Options);
}
