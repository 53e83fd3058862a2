using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Monolith.Domain.Imports;

namespace Monolith.Domain.Persistence.Configurations;

public sealed class ImportConfiguration : IEntityTypeConfiguration<Import>
{
    public void Configure(EntityTypeBuilder<Import> import)
    {
        import.ToTable("imports");
        import.HasKey(i => i.Id);
        import.Property(i => i.Id).ValueGeneratedNever();
        import.Property(i => i.Snapshot).HasMaxLength(100);
        import.Property(i => i.FileName).HasMaxLength(255);
        import.Property(i => i.StorageKey).HasMaxLength(500);
        import.Property(i => i.IdColumn).HasMaxLength(200);
        import.Property(i => i.Delimiter).HasMaxLength(1);
        import.Property(i => i.Encoding).HasMaxLength(20);
        import.Property(i => i.State).HasMaxLength(20)
            .HasConversion(s => s.ToName(), s => Enum.Parse<ImportState>(s, true));
        import.Property(i => i.FirstErrors).HasColumnType("jsonb").HasDefaultValueSql("'[]'::jsonb");
        import.Property(i => i.Error).HasMaxLength(Import.MaxErrorLength);

        // A tenant's imports, newest first by the time-ordered id (GET /v1/imports).
        import.HasIndex(i => new { i.TenantId, i.Id }).HasDatabaseName("ix_imports_tenant_id");
    }
}
