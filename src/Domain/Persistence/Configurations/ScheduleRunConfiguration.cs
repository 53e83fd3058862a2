using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Monolith.Domain.Schedules;

namespace Monolith.Domain.Persistence.Configurations;

public sealed class ScheduleRunConfiguration : IEntityTypeConfiguration<ScheduleRun>
{
    public void Configure(EntityTypeBuilder<ScheduleRun> run)
    {
        run.ToTable("schedule_runs");
        run.HasKey(r => r.Id);
        run.Property(r => r.Id).ValueGeneratedNever();
        run.Property(r => r.Outcome).HasMaxLength(20)
            .HasConversion(o => o.ToName(), o => Enum.Parse<ScheduleRunOutcome>(o, true));
        // Exactly one run per schedule and fire time across the cluster: a firing repeated by Quartz's recovery hits it.
        run.HasIndex(r => new { r.ScheduleId, r.FireTime }).IsUnique().HasDatabaseName("ux_schedule_runs_schedule_fire_time");
        run.HasOne<Schedule>().WithMany().HasForeignKey(r => r.ScheduleId).OnDelete(DeleteBehavior.Cascade);
    }
}
