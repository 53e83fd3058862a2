namespace Monolith.Api.Features.Admin;

/// <param name="Name">A name for the tenant, 1 to 200 characters.</param>
public sealed record CreateTenantRequest(string? Name);

/// <param name="Name">What the key is for, 1 to 200 characters (default "default").</param>
public sealed record CreateApiKeyRequest(string? Name);

public sealed record TenantResponse(Guid Id, string Name, DateTimeOffset CreatedAt);

/// <summary>A new key. <c>Key</c> is shown only here, once: only its hash is stored.</summary>
public sealed record CreatedApiKeyResponse(Guid Id, Guid TenantId, string Name, string Key, string Prefix, DateTimeOffset CreatedAt);

/// <summary>A tenant and its first key.</summary>
public sealed record CreatedTenantResponse(TenantResponse Tenant, CreatedApiKeyResponse ApiKey);

public sealed record ApiKeyResponse(Guid Id, Guid TenantId, string Name, string Prefix, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt);
