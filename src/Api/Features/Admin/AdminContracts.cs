namespace Monolith.Api.Features.Admin;

/// <param name="Name">A name for the tenant, 1 to 200 characters.</param>
public sealed record CreateTenantRequest(string? Name);

/// <param name="Name">What the key is for, 1 to 200 characters (default "default").</param>
public sealed record CreateApiKeyRequest(string? Name);

public sealed record TenantResponse(Guid Id, string Name, DateTimeOffset CreatedAt);

/// <summary>A new key. <c>Key</c> is shown only here, once: only its hash is stored.</summary>
public sealed record CreatedApiKeyResponse(Guid Id, Guid TenantId, string Name, string Key, string Prefix, DateTimeOffset CreatedAt);

/// <summary>A tenant, its first key, and the secret its webhooks are signed with (both shown only here, once).</summary>
public sealed record CreatedTenantResponse(TenantResponse Tenant, CreatedApiKeyResponse ApiKey, string WebhookSecret);

/// <summary>A tenant's new webhook signing secret, shown once; the previous one stops being used at once.</summary>
public sealed record WebhookSecretResponse(Guid TenantId, string WebhookSecret);

public sealed record ApiKeyResponse(Guid Id, Guid TenantId, string Name, string Prefix, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt);
