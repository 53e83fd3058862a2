using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Monolith.Domain.Queues;

namespace Monolith.Domain.Persistence.Configurations;

public sealed class QueuePauseConfiguration : IEntityTypeConfiguration<QueuePause>
{
    public void Configure(EntityTypeBuilder<QueuePause> pause)
    {
        pause.ToTable("queue_pauses");
        pause.HasKey(p => p.Queue);
        pause.Property(p => p.Queue).HasMaxLength(100);
        pause.Property(p => p.PausedBy).HasMaxLength(200);
    }
}
