using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Monolith.Domain.Tenants;

namespace Monolith.Domain.Persistence.Configurations;

public sealed class TenantConfiguration : IEntityTypeConfiguration<Tenant>
{
    public void Configure(EntityTypeBuilder<Tenant> tenant)
    {
        tenant.ToTable("tenants");
        tenant.HasKey(t => t.Id);
        tenant.Property(t => t.Name).HasMaxLength(200);
        tenant.HasData(new Tenant
        {
            Id = Tenant.AdminTenantId,
            Name = "admin",
            CreatedAt = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero),
        });
    }
}
