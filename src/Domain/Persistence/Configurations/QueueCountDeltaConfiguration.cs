using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Monolith.Domain.Jobs;
using Monolith.Domain.Queues;

namespace Monolith.Domain.Persistence.Configurations;

/// <summary>
/// Append-only changes to the terminal-state counts, written by the statement-level triggers on <c>jobs</c>
/// (SQL in the QueueFigures migration) and folded into queue_count_totals by the compactor (docs/queues.md).
/// </summary>
public sealed class QueueCountDeltaConfiguration : IEntityTypeConfiguration<QueueCountDelta>
{
    public void Configure(EntityTypeBuilder<QueueCountDelta> delta)
    {
        delta.ToTable("queue_count_deltas");
        delta.HasKey(d => d.Id);
        delta.Property(d => d.Queue).HasMaxLength(100);
        delta.Property(d => d.State).HasMaxLength(20)
            .HasConversion(s => s.ToName(), s => Enum.Parse<JobState>(s, true));
    }
}
