using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Monolith.Api.Infrastructure;

namespace Monolith.Api.Features.Dashboard;

/// <summary>
/// The admin key, typed once, is exchanged for the dashboard cookie (HttpOnly, SameSite=Strict, Secure over HTTPS).
/// The key itself is not kept: the cookie holds its hash, so changing <c>ADMIN_API_KEY</c> ends every session.
/// </summary>
public sealed class LoginModel(IConfiguration configuration) : PageModel
{
    public bool Failed { get; private set; }

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public void OnGet() { }

    public async Task<IActionResult> OnPostAsync(string? key)
    {
        if (!ApiKeyAuthentication.IsAdminKey(configuration, key))
        {
            Failed = true;
            Response.StatusCode = StatusCodes.Status401Unauthorized;
            return Page();
        }
        await HttpContext.SignInAsync(DashboardExtensions.Scheme, DashboardExtensions.AdminPrincipal(configuration));
        return LocalRedirect(ReturnUrl is { } url && Url.IsLocalUrl(url) && url.StartsWith("/dashboard", StringComparison.OrdinalIgnoreCase) ? url : "/dashboard");
    }

    public async Task<IActionResult> OnPostLogoutAsync()
    {
        await HttpContext.SignOutAsync(DashboardExtensions.Scheme);
        return LocalRedirect(DashboardExtensions.LoginPath);
    }
}
