using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Monolith.Domain.Persistence;
using Monolith.Domain.Tenants;

namespace Monolith.Api.Infrastructure;

/// <summary>
/// Authenticates the <c>X-Api-Key</c> header. <c>ADMIN_API_KEY</c> is the bootstrap admin, who may do
/// everything; every other key is looked up by its SHA-256 and acts for its tenant. An unknown or revoked key counts
/// against the client's address (<see cref="AuthThrottle"/>); an address past its failures is answered 429 with
/// <c>Retry-After</c> whatever key it sends, before the key is looked at.
/// </summary>
public sealed class ApiKeyAuthentication(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IConfiguration configuration,
    MonolithDbContext db,
    AuthThrottle throttle) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string HeaderName = "X-Api-Key";
    public const string TenantClaim = "tenant_id";
    public const string AdminRole = "admin";

    /// <summary>Set when the address was throttled: how long it must wait (the challenge answers 429 instead of 401).</summary>
    private TimeSpan? _throttled;

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue(HeaderName, out var values) || string.IsNullOrWhiteSpace(values.ToString()))
        {
            return AuthenticateResult.NoResult();
        }
        if (throttle.IsThrottled(Context, out var retryAfter))
        {
            _throttled = retryAfter;
            return AuthenticateResult.Fail("Too many failed authentications from this address.");
        }
        var key = values.ToString().Trim();
        var hash = ApiKey.Hash(key);

        if (IsAdminKey(configuration, key))
        {
            return Success(Tenant.AdminTenantId, "admin", isAdmin: true);
        }

        var stored = await db.ApiKeys.AsNoTracking()
            .Where(k => k.KeyHash == hash && k.RevokedAt == null)
            .Select(k => new { k.TenantId, k.Id })
            .FirstOrDefaultAsync(Context.RequestAborted);
        if (stored is null)
        {
            throttle.Failed(Context);
            return AuthenticateResult.Fail("Unknown or revoked API key.");
        }
        return Success(stored.TenantId, stored.Id.ToString(), isAdmin: false);
    }

    /// <summary>401 (a problem body, from the status code pages), or 429 with <c>Retry-After</c> when the address is throttled.</summary>
    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        await AuthenticateAsync(); // the result (and _throttled) of this request, computed once
        if (_throttled is not { } retryAfter)
        {
            await base.HandleChallengeAsync(properties);
            return;
        }
        Response.Headers.RetryAfter = AuthThrottle.RetryAfterHeader(retryAfter);
        await TypedResults.Problem(
            title: "Too many failed authentications.",
            detail: "This address sent too many unknown API keys. Try again after the time in Retry-After.",
            statusCode: StatusCodes.Status429TooManyRequests).ExecuteAsync(Context);
    }

    /// <summary>Whether <paramref name="key"/> is <c>ADMIN_API_KEY</c> (compared by hash, in constant time).</summary>
    public static bool IsAdminKey(IConfiguration configuration, string? key)
    {
        var adminKey = configuration["ADMIN_API_KEY"];
        return !string.IsNullOrEmpty(adminKey) && !string.IsNullOrEmpty(key)
            && System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
                Convert.FromHexString(ApiKey.Hash(key.Trim())), Convert.FromHexString(ApiKey.Hash(adminKey)));
    }

    private AuthenticateResult Success(Guid tenantId, string keyId, bool isAdmin)
    {
        var claims = new List<Claim> { new(TenantClaim, tenantId.ToString()), new(ClaimTypes.NameIdentifier, keyId) };
        if (isAdmin) claims.Add(new Claim(ClaimTypes.Role, AdminRole));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }
}

public static class CallerExtensions
{
    /// <summary>The tenant the caller's key belongs to (the admin acts as the admin tenant when it submits).</summary>
    public static Guid TenantId(this ClaimsPrincipal user) => Guid.Parse(user.FindFirstValue(ApiKeyAuthentication.TenantClaim)!);

    public static bool IsAdmin(this ClaimsPrincipal user) => user.IsInRole(ApiKeyAuthentication.AdminRole);

    /// <summary>Whose jobs the caller may see: its own tenant's, or everyone's (null) for the admin.</summary>
    public static Guid? TenantScope(this ClaimsPrincipal user) => user.IsAdmin() ? null : user.TenantId();
}
