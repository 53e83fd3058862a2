using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Monolith.Domain.Transfers;

namespace Monolith.Domain.Persistence.Configurations;

public sealed class TransferConfiguration : IEntityTypeConfiguration<Transfer>
{
    public void Configure(EntityTypeBuilder<Transfer> transfer)
    {
        transfer.ToTable("transfers");
        transfer.HasKey(t => t.Id);
        transfer.Property(t => t.Id).ValueGeneratedNever();
        transfer.Property(t => t.Source).HasColumnType("jsonb");
        transfer.Property(t => t.Destination).HasColumnType("jsonb");
        transfer.Property(t => t.Metadata).HasColumnType("jsonb").HasDefaultValueSql("'{}'::jsonb");
        transfer.Property(t => t.State).HasMaxLength(20)
            .HasConversion(s => s.ToName(), s => Enum.Parse<TransferState>(s, true));
        transfer.Property(t => t.Sha256).HasMaxLength(64);
        transfer.Property(t => t.SourceSha256).HasMaxLength(64);
        transfer.Property(t => t.SourceETag).HasColumnName("source_etag").HasMaxLength(500);
        transfer.Property(t => t.SourceLastModified).HasMaxLength(100);
        transfer.Property(t => t.DestinationLocation).HasMaxLength(2000);
        transfer.Property(t => t.Error).HasMaxLength(2000);

        // A tenant's transfers, newest first by the time-ordered id (GET /v1/transfers).
        transfer.HasIndex(t => new { t.TenantId, t.Id }).HasDatabaseName("ix_transfers_tenant_id");
        // DELETE /v1/uploads/{id}: is a transfer still using it?
        transfer.HasIndex(t => t.SourceUploadId).HasDatabaseName("ix_transfers_source_upload").HasFilter("source_upload_id IS NOT NULL");
    }
}
