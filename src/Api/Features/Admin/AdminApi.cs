using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Monolith.Api.Infrastructure;
using Monolith.Domain.Persistence;
using Monolith.Domain.Secrets;
using Monolith.Domain.Tenants;
using Monolith.Worker.Jobs.Webhooks;

namespace Monolith.Api.Features.Admin;

/// <summary>Tenants and their API keys. Only the admin key (<c>ADMIN_API_KEY</c>) may call these.</summary>
public static class AdminApi
{
    public const string Policy = "admin";

    public static RouteGroupBuilder MapAdminApi(this IEndpointRouteBuilder routes)
    {
        var admin = routes.MapGroup("/v1/admin").WithTags("Admin").RequireAuthorization(Policy);

        admin.MapPost("/tenants", CreateTenant).WithName("CreateTenant").WithValidation<CreateTenantRequest>()
            .WithSummary("Create a tenant and its first API key (the key is shown once)");
        admin.MapGet("/tenants", ListTenants).WithName("ListTenants").WithSummary("List tenants");
        admin.MapPost("/tenants/{tenantId:guid}/keys", CreateApiKey).WithName("CreateApiKey").WithValidation<CreateApiKeyRequest>()
            .ProducesProblem(StatusCodes.Status404NotFound).WithSummary("Create another API key for a tenant (shown once)");
        admin.MapGet("/tenants/{tenantId:guid}/keys", ListApiKeys).WithName("ListApiKeys").WithSummary("A tenant's keys (never the keys themselves)");
        admin.MapDelete("/keys/{keyId:guid}", RevokeApiKey).WithName("RevokeApiKey")
            .ProducesProblem(StatusCodes.Status404NotFound).WithSummary("Revoke an API key: it stops working at once");
        admin.MapPost("/tenants/{tenantId:guid}/webhook-secret", RotateWebhookSecret).WithName("RotateWebhookSecret")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("Make a new webhook signing secret for a tenant (shown once); deliveries from now on are signed with it");
        return admin;
    }

    public static async Task<Created<CreatedTenantResponse>> CreateTenant(
        CreateTenantRequest request, MonolithDbContext db, SecretProtector secrets, CancellationToken ct)
    {
        var webhookSecret = WebhookSignature.NewSecret();
        var tenant = new Tenant
        {
            Id = Guid.CreateVersion7(),
            Name = request.Name!.Trim(),
            CreatedAt = DateTimeOffset.UtcNow,
            WebhookSecret = secrets.Protect(webhookSecret, Tenant.WebhookSecretPurpose),
        };
        db.Tenants.Add(tenant);
        var (key, response) = NewKey(tenant.Id, "default");
        db.ApiKeys.Add(key);
        await db.SaveChangesAsync(ct);
        return TypedResults.Created($"/v1/admin/tenants/{tenant.Id}",
            new CreatedTenantResponse(new TenantResponse(tenant.Id, tenant.Name, tenant.CreatedAt), response, webhookSecret));
    }

    public static async Task<Results<Ok<WebhookSecretResponse>, ProblemHttpResult>> RotateWebhookSecret(
        Guid tenantId, MonolithDbContext db, SecretProtector secrets, CancellationToken ct)
    {
        var webhookSecret = WebhookSignature.NewSecret();
        var stored = secrets.Protect(webhookSecret, Tenant.WebhookSecretPurpose);
        var updated = await db.Tenants.Where(t => t.Id == tenantId)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.WebhookSecret, stored), ct);
        return updated == 0 ? TenantNotFound(tenantId) : TypedResults.Ok(new WebhookSecretResponse(tenantId, webhookSecret));
    }

    public static async Task<Ok<List<TenantResponse>>> ListTenants(MonolithDbContext db, CancellationToken ct) =>
        TypedResults.Ok(await db.Tenants.AsNoTracking().OrderBy(t => t.CreatedAt)
            .Select(t => new TenantResponse(t.Id, t.Name, t.CreatedAt)).ToListAsync(ct));

    public static async Task<Results<Created<CreatedApiKeyResponse>, ProblemHttpResult>> CreateApiKey(
        Guid tenantId, CreateApiKeyRequest request, MonolithDbContext db, CancellationToken ct)
    {
        if (!await db.Tenants.AnyAsync(t => t.Id == tenantId, ct)) return TenantNotFound(tenantId);
        var (key, response) = NewKey(tenantId, string.IsNullOrWhiteSpace(request.Name) ? "default" : request.Name.Trim());
        db.ApiKeys.Add(key);
        await db.SaveChangesAsync(ct);
        return TypedResults.Created($"/v1/admin/tenants/{tenantId}/keys", response);
    }

    public static async Task<Ok<List<ApiKeyResponse>>> ListApiKeys(Guid tenantId, MonolithDbContext db, CancellationToken ct) =>
        TypedResults.Ok(await db.ApiKeys.AsNoTracking().Where(k => k.TenantId == tenantId).OrderBy(k => k.CreatedAt)
            .Select(k => new ApiKeyResponse(k.Id, k.TenantId, k.Name, k.Prefix, k.CreatedAt, k.RevokedAt)).ToListAsync(ct));

    public static async Task<Results<NoContent, ProblemHttpResult>> RevokeApiKey(Guid keyId, MonolithDbContext db, CancellationToken ct)
    {
        var now = DateTimeOffset.UtcNow;
        var revoked = await db.ApiKeys.Where(k => k.Id == keyId)
            .ExecuteUpdateAsync(s => s.SetProperty(k => k.RevokedAt, k => k.RevokedAt ?? now), ct);
        return revoked == 0
            ? TypedResults.Problem(title: "API key not found.", detail: $"No API key {keyId}.", statusCode: StatusCodes.Status404NotFound)
            : TypedResults.NoContent();
    }

    private static (ApiKey Key, CreatedApiKeyResponse Response) NewKey(Guid tenantId, string name)
    {
        var secret = ApiKey.NewKey();
        var key = new ApiKey
        {
            Id = Guid.CreateVersion7(),
            TenantId = tenantId,
            Name = name,
            KeyHash = ApiKey.Hash(secret),
            Prefix = secret[..10],
            CreatedAt = DateTimeOffset.UtcNow,
        };
        return (key, new CreatedApiKeyResponse(key.Id, tenantId, name, secret, key.Prefix, key.CreatedAt));
    }

    private static ProblemHttpResult TenantNotFound(Guid tenantId) =>
        TypedResults.Problem(title: "Tenant not found.", detail: $"No tenant {tenantId}.", statusCode: StatusCodes.Status404NotFound);
}
