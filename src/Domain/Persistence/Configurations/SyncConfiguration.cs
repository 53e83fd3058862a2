using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Monolith.Domain.Syncs;

namespace Monolith.Domain.Persistence.Configurations;

public sealed class SyncConfiguration : IEntityTypeConfiguration<Sync>
{
    public void Configure(EntityTypeBuilder<Sync> sync)
    {
        sync.ToTable("syncs");
        sync.HasKey(s => s.Id);
        sync.Property(s => s.Id).ValueGeneratedNever();
        sync.Property(s => s.Snapshot).HasMaxLength(100);
        sync.Property(s => s.Source).HasColumnType("jsonb");
        sync.Property(s => s.Checkpoint).HasColumnType("jsonb");
        sync.Property(s => s.State).HasMaxLength(20)
            .HasConversion(s => s.ToName(), s => Enum.Parse<SyncState>(s, true));
        sync.Property(s => s.Error).HasMaxLength(2000);

        // A tenant's syncs, newest first by the time-ordered id (GET /v1/syncs).
        sync.HasIndex(s => new { s.TenantId, s.Id }).HasDatabaseName("ix_syncs_tenant_id");
    }
}

public sealed class SnapshotRecordConfiguration : IEntityTypeConfiguration<SnapshotRecord>
{
    public void Configure(EntityTypeBuilder<SnapshotRecord> record)
    {
        record.ToTable("snapshot_records");
        // The upsert's conflict target, and the keyset order of GET /v1/snapshots/{name}/records.
        record.HasKey(r => new { r.TenantId, r.Snapshot, r.ExternalId });
        record.Property(r => r.Snapshot).HasMaxLength(100);
        record.Property(r => r.ExternalId).HasMaxLength(500);
        record.Property(r => r.Data).HasColumnType("jsonb");
        // filter=field:value is data @> {"field": value}: jsonb_path_ops answers containment, smaller than the default opclass.
        record.HasIndex(r => r.Data).HasDatabaseName("ix_snapshot_records_data")
            .HasMethod("gin").HasOperators("jsonb_path_ops");
        // No foreign key to syncs: records outlive the sync that wrote them (a snapshot is refreshed by later syncs).
    }
}

public sealed class RateLimitSlotConfiguration : IEntityTypeConfiguration<RateLimitSlot>
{
    public void Configure(EntityTypeBuilder<RateLimitSlot> slot)
    {
        slot.ToTable("rate_limits");
        slot.HasKey(s => s.Key);
        slot.Property(s => s.Key).HasMaxLength(300);
    }
}
