using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Monolith.Domain.Jobs;

namespace Monolith.Domain.Persistence.Configurations;

public sealed class TypeRateWindowConfiguration : IEntityTypeConfiguration<TypeRateWindow>
{
    public void Configure(EntityTypeBuilder<TypeRateWindow> window)
    {
        window.ToTable("type_rate_windows");
        window.HasKey(w => w.Type);
        window.Property(w => w.Type).HasMaxLength(100);
    }
}
