namespace Monolith.Domain.Tenants;

/// <summary>A customer of the service. Every job belongs to exactly one tenant.</summary>
public sealed class Tenant
{
    /// <summary>The tenant that <c>ADMIN_API_KEY</c> acts as when it submits jobs itself.</summary>
    public static readonly Guid AdminTenantId = new("00000000-0000-0000-0000-000000000001");

    public Guid Id { get; set; }
    public string Name { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
}
