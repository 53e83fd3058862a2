using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Monolith.Domain.Datasets;

namespace Monolith.Domain.Persistence.Configurations;

public sealed class DatasetConfiguration : IEntityTypeConfiguration<Dataset>
{
    public void Configure(EntityTypeBuilder<Dataset> dataset)
    {
        dataset.ToTable("datasets");
        dataset.HasKey(d => d.Id);
        dataset.Property(d => d.Id).ValueGeneratedNever();
        dataset.Property(d => d.Country).HasMaxLength(2);
        dataset.Property(d => d.Format).HasMaxLength(50);
        dataset.Property(d => d.FileName).HasMaxLength(255);
        dataset.Property(d => d.StorageKey).HasMaxLength(500);
        dataset.Property(d => d.State).HasMaxLength(20)
            .HasConversion(s => s.ToName(), s => Enum.Parse<DatasetState>(s, true));
        dataset.Property(d => d.FirstErrors).HasColumnType("jsonb").HasDefaultValueSql("'[]'::jsonb");
        dataset.Property(d => d.Error).HasMaxLength(2000);

        // A tenant's datasets, newest first by the time-ordered id (GET /v1/datasets).
        dataset.HasIndex(d => new { d.TenantId, d.Id }).HasDatabaseName("ix_datasets_tenant_id");
    }
}

public sealed class NameRecordConfiguration : IEntityTypeConfiguration<NameRecord>
{
    public void Configure(EntityTypeBuilder<NameRecord> record)
    {
        record.ToTable("name_records");
        record.HasKey(r => r.Id);
        record.Property(r => r.Id).UseIdentityAlwaysColumn();
        record.Property(r => r.Country).HasMaxLength(2);
        record.Property(r => r.Region).HasMaxLength(2);
        record.Property(r => r.Sex).HasMaxLength(1);
        record.Property(r => r.Name).HasMaxLength(100);
        record.Property(r => r.Kind).HasMaxLength(20);
        // No foreign key to datasets: a per-row RI check would slow the bulk COPY; the parse job deletes a
        // dataset's records itself, in the transaction that replaces them.

        // Re-parsing deletes a dataset's records.
        record.HasIndex(r => r.DatasetId).HasDatabaseName("ix_name_records_dataset");
        // GET /v1/names/{name}: one name's counts per year.
        record.HasIndex(r => new { r.TenantId, r.Country, r.Region, r.Name, r.Sex, r.Year })
            .HasDatabaseName("ix_name_records_name")
            .IncludeProperties(r => r.Count)
            .HasFilter("kind = 'name'");
        // GET /v1/names/top: one year's names, largest count first.
        record.HasIndex(r => new { r.TenantId, r.Country, r.Region, r.Year, r.Sex, r.Count })
            .HasDatabaseName("ix_name_records_top")
            .IsDescending(false, false, false, false, false, true)
            .IncludeProperties(r => r.Name)
            .HasFilter("kind = 'name'");
    }
}
