using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Monolith.Domain.Uploads;

namespace Monolith.Domain.Persistence.Configurations;

public sealed class UploadConfiguration : IEntityTypeConfiguration<Upload>
{
    public void Configure(EntityTypeBuilder<Upload> upload)
    {
        upload.ToTable("uploads");
        upload.HasKey(u => u.Id);
        upload.Property(u => u.Id).ValueGeneratedNever();
        upload.Property(u => u.StorageKey).HasMaxLength(500);
        upload.Property(u => u.Sha256).HasMaxLength(64);
        upload.Property(u => u.ContentType).HasMaxLength(255);
        upload.Property(u => u.FileName).HasMaxLength(255);
        upload.Property(u => u.State).HasMaxLength(20)
            .HasConversion(s => s.ToName(), s => Enum.Parse<UploadState>(s, true));
        upload.Ignore(u => u.IsUsable);
        upload.Ignore(u => u.IncomingKey);
        upload.Ignore(u => u.UnusableReason);
        upload.HasIndex(u => new { u.TenantId, u.Id }).HasDatabaseName("ix_uploads_tenant_id");
        // Pending uploads past their expiry (PendingUploadCleaner): only the few rows still pending.
        upload.HasIndex(u => u.ExpiresAt).HasDatabaseName("ix_uploads_pending_expiry").HasFilter("state = 'pending'");
    }
}
