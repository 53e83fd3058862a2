using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Monolith.Domain.Datasets;
using Monolith.Domain.Imports;
using Monolith.Domain.Jobs;
using Monolith.Domain.Queues;
using Monolith.Domain.Schedules;
using Monolith.Domain.Syncs;
using Monolith.Domain.Tenants;
using Monolith.Domain.Transfers;
using Monolith.Domain.Uploads;

namespace Monolith.Domain.Persistence;

/// <summary>
/// The one DbContext. Quartz's tables live in the <c>quartz</c> schema and are not mapped here. It also holds the
/// ASP.NET Core Data Protection key ring (<see cref="IDataProtectionKeyContext"/>), so that every api node reads the
/// dashboard cookies and antiforgery tokens another issued, whatever the file store.
/// </summary>
public sealed class MonolithDbContext(DbContextOptions<MonolithDbContext> options) : DbContext(options), IDataProtectionKeyContext
{
    public DbSet<Job> Jobs => Set<Job>();
    public DbSet<JobAttempt> JobAttempts => Set<JobAttempt>();
    public DbSet<Tenant> Tenants => Set<Tenant>();
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();
    public DbSet<QueuePause> QueuePauses => Set<QueuePause>();
    public DbSet<TypeRateWindow> TypeRateWindows => Set<TypeRateWindow>();
    public DbSet<QueueCountTotal> QueueCountTotals => Set<QueueCountTotal>();
    public DbSet<QueueCountDelta> QueueCountDeltas => Set<QueueCountDelta>();
    public DbSet<Dataset> Datasets => Set<Dataset>();
    public DbSet<NameRecord> NameRecords => Set<NameRecord>();
    public DbSet<Upload> Uploads => Set<Upload>();
    public DbSet<Transfer> Transfers => Set<Transfer>();
    public DbSet<Sync> Syncs => Set<Sync>();
    public DbSet<SnapshotRecord> SnapshotRecords => Set<SnapshotRecord>();
    public DbSet<RateLimitSlot> RateLimits => Set<RateLimitSlot>();
    public DbSet<Schedule> Schedules => Set<Schedule>();
    public DbSet<ScheduleRun> ScheduleRuns => Set<ScheduleRun>();
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();
    public DbSet<Import> Imports => Set<Import>();

    protected override void OnModelCreating(ModelBuilder modelBuilder) =>
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(MonolithDbContext).Assembly);
}
