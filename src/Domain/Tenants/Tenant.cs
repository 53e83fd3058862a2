namespace Monolith.Domain.Tenants;

/// <summary>A customer of the service. Every job belongs to exactly one tenant.</summary>
public sealed class Tenant
{
    /// <summary>The tenant that <c>ADMIN_API_KEY</c> acts as when it submits jobs itself.</summary>
    public static readonly Guid AdminTenantId = new("00000000-0000-0000-0000-000000000001");

    public Guid Id { get; set; }
    public string Name { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>
    /// The key webhooks of this tenant's jobs are signed with (HMAC-SHA256, docs/webhooks.md), encrypted at rest
    /// by <c>SecretProtector</c> (purpose <see cref="WebhookSecretPurpose"/>). Made when the tenant is created and
    /// shown once; the admin may rotate it. Null for a tenant that has none yet: its webhooks fail until one is made.
    /// </summary>
    public string? WebhookSecret { get; set; }

    public const string WebhookSecretPurpose = "tenant.webhook_secret";
}
