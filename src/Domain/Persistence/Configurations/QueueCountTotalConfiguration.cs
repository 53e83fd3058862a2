using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Monolith.Domain.Jobs;
using Monolith.Domain.Queues;

namespace Monolith.Domain.Persistence.Configurations;

/// <summary>Terminal-state counts per tenant, queue and state, as of the last compaction (docs/queues.md).</summary>
public sealed class QueueCountTotalConfiguration : IEntityTypeConfiguration<QueueCountTotal>
{
    public void Configure(EntityTypeBuilder<QueueCountTotal> total)
    {
        total.ToTable("queue_count_totals");
        total.HasKey(t => new { t.TenantId, t.Queue, t.State });
        total.Property(t => t.Queue).HasMaxLength(100);
        total.Property(t => t.State).HasMaxLength(20)
            .HasConversion(s => s.ToName(), s => Enum.Parse<JobState>(s, true));
    }
}
