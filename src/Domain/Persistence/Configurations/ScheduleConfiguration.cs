using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Monolith.Domain.Schedules;

namespace Monolith.Domain.Persistence.Configurations;

public sealed class ScheduleConfiguration : IEntityTypeConfiguration<Schedule>
{
    public void Configure(EntityTypeBuilder<Schedule> schedule)
    {
        schedule.ToTable("schedules");
        schedule.HasKey(s => s.Id);
        schedule.Property(s => s.Id).ValueGeneratedNever();
        schedule.Property(s => s.Name).HasMaxLength(Schedule.MaxNameLength);
        schedule.Property(s => s.Cron).HasMaxLength(Schedule.MaxCronLength);
        schedule.Property(s => s.TimeZone).HasMaxLength(100);
        schedule.Property(s => s.Overlap).HasMaxLength(20)
            .HasConversion(o => o.ToName(), o => SchedulePolicies.ParseOverlap(o)!.Value);
        schedule.Property(s => s.Misfire).HasMaxLength(20)
            .HasConversion(m => m.ToName(), m => SchedulePolicies.ParseMisfire(m)!.Value);
        schedule.Property(s => s.JobType).HasMaxLength(100);
        schedule.Property(s => s.Payload).HasColumnType("jsonb");
        schedule.Property(s => s.Queue).HasMaxLength(100);
        schedule.Property(s => s.CallbackUrl).HasMaxLength(2000);

        // A tenant's schedules, newest first by the time-ordered id (GET /v1/schedules).
        schedule.HasIndex(s => new { s.TenantId, s.Id }).HasDatabaseName("ix_schedules_tenant_id");
    }
}
