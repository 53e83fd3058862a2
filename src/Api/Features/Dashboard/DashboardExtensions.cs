using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.AspNetCore.Http.HttpResults;
using Monolith.Api.Infrastructure;
using Monolith.Domain.Jobs;
using Monolith.Domain.Tenants;
using Monolith.Worker.Storage;

namespace Monolith.Api.Features.Dashboard;

/// <summary>
/// The dashboard (docs/dashboard.md): Razor Pages under <c>/dashboard</c>, served by <c>api</c> and <c>all</c> nodes,
/// behind a login that exchanges <c>ADMIN_API_KEY</c> for a cookie. The cookie scheme is used for <c>/dashboard</c>
/// only; <c>/v1</c> keeps the <c>X-Api-Key</c> scheme as its default and never reads the cookie.
/// </summary>
public static class DashboardExtensions
{
    public const string Scheme = "DashboardCookie";
    public const string Policy = "Dashboard";
    public const string LoginPath = "/dashboard/login";

    /// <summary>The claim holding the hash of the admin key the cookie was issued for: a changed key ends every session.</summary>
    public const string KeyHashClaim = "admin_key_hash";

    public static IServiceCollection AddDashboard(this IServiceCollection services)
    {
        services.AddRazorPages(o =>
        {
            // Pages live beside the other features: Features/Dashboard/Jobs.cshtml answers /dashboard/jobs.
            o.RootDirectory = "/Features";
            o.Conventions.AuthorizeFolder("/Dashboard", Policy);
            o.Conventions.AllowAnonymousToPage("/Dashboard/Login");
        });
        services.Configure<RouteOptions>(o => o.LowercaseUrls = true);
        services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "monolith_dashboard_csrf";
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        });

        // The cookie and the antiforgery tokens are encrypted with Data Protection keys. Every api node must read
        // what another issued, so the key ring is kept in the file store that every node already shares: a folder of
        // the local store, or objects in the S3 bucket (never the node's own ~/.aspnet folder).
        services.AddDataProtection().SetApplicationName("monolith");
        services.AddOptions<KeyManagementOptions>().Configure<IServiceProvider>((o, sp) =>
        {
            o.XmlRepository = sp.GetRequiredService<IFileStore>() switch
            {
                LocalFileStore local => new FileSystemXmlRepository(
                    new DirectoryInfo(Path.Combine(local.Root, ".dataprotection-keys")), sp.GetRequiredService<ILoggerFactory>()),
                S3FileStore s3 => new FileStoreXmlRepository(s3),
                _ => o.XmlRepository,
            };
        });

        services.AddAuthentication().AddCookie(Scheme, o =>
        {
            o.Cookie.Name = "monolith_dashboard";
            o.Cookie.Path = "/dashboard";
            o.Cookie.HttpOnly = true;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.ExpireTimeSpan = TimeSpan.FromHours(8);
            o.SlidingExpiration = true;
            o.LoginPath = LoginPath;
            o.AccessDeniedPath = LoginPath;
            o.Events.OnRedirectToLogin = context =>
            {
                // The dashboard's JSON (the progress poll) answers 401; pages go to the login form.
                if (context.Request.Path.StartsWithSegments("/dashboard/api")) context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                else context.Response.Redirect(context.RedirectUri);
                return Task.CompletedTask;
            };
            o.Events.OnValidatePrincipal = async context =>
            {
                var configuration = context.HttpContext.RequestServices.GetRequiredService<IConfiguration>();
                if (context.Principal?.FindFirstValue(KeyHashClaim) != AdminKeyHash(configuration))
                {
                    context.RejectPrincipal();
                    await context.HttpContext.SignOutAsync(Scheme);
                }
            };
        });
        services.AddAuthorizationBuilder().AddPolicy(Policy, p => p
            .AddAuthenticationSchemes(Scheme)
            .RequireRole(ApiKeyAuthentication.AdminRole));
        return services;
    }

    public static void MapDashboard(this WebApplication app)
    {
        app.MapRazorPages();
        var api = app.MapGroup("/dashboard/api").RequireAuthorization(Policy).ExcludeFromDescription();
        api.MapGet("/jobs/{id:guid}", GetJobProgress);
    }

    /// <summary>What the job page polls every 500 ms for its progress bar.</summary>
    public static async Task<Results<Ok<DashboardJobProgress>, NotFound>> GetJobProgress(Guid id, JobQueries queries, CancellationToken ct) =>
        await queries.GetAsync(null, id, ct) is { } job
            ? TypedResults.Ok(DashboardJobProgress.From(job))
            : TypedResults.NotFound();

    /// <summary>The admin's principal in the dashboard cookie.</summary>
    public static ClaimsPrincipal AdminPrincipal(IConfiguration configuration) => new(new ClaimsIdentity(
    [
        new Claim(ClaimTypes.NameIdentifier, "admin"),
        new Claim(ApiKeyAuthentication.TenantClaim, Tenant.AdminTenantId.ToString()),
        new Claim(ClaimTypes.Role, ApiKeyAuthentication.AdminRole),
        new Claim(KeyHashClaim, AdminKeyHash(configuration) ?? ""),
    ], Scheme));

    private static string? AdminKeyHash(IConfiguration configuration) =>
        configuration["ADMIN_API_KEY"] is { Length: > 0 } key ? ApiKey.Hash(key) : null;
}

/// <param name="State">As GET /v1/jobs/{id} shows it.</param>
/// <param name="Percent">0 to 100; null before the job reported any progress.</param>
public sealed record DashboardJobProgress(string State, int? Percent, string? Message, int Attempt, bool Finished)
{
    public static DashboardJobProgress From(Job job)
    {
        var state = JobQueries.EffectiveState(job, DateTimeOffset.UtcNow);
        return new(state.ToName(), job.ProgressPercent, job.ProgressMessage, job.Attempt, state.IsTerminal());
    }
}
