using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Monolith.Api.Infrastructure;

namespace Monolith.Api.Features.Dashboard;

/// <summary>
/// The admin key, typed once, is exchanged for the dashboard cookie (HttpOnly, SameSite=Strict, Secure over HTTPS).
/// The key itself is not kept: the cookie holds its hash, so changing <c>ADMIN_API_KEY</c> ends every session. A wrong
/// key counts against the client's address (<see cref="AuthThrottle"/>, shared with bad API keys); past its failures
/// the address gets 429 with <c>Retry-After</c> and says so on the form, whatever key it types, until the window ends.
/// </summary>
public sealed class LoginModel(IConfiguration configuration, AuthThrottle throttle) : PageModel
{
    public bool Failed { get; private set; }

    /// <summary>Set when this address may not try again yet: how long it must wait.</summary>
    public TimeSpan? Throttled { get; private set; }

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public void OnGet() { }

    public async Task<IActionResult> OnPostAsync(string? key)
    {
        if (throttle.IsThrottled(HttpContext, out var retryAfter))
        {
            Throttled = retryAfter;
            Response.StatusCode = StatusCodes.Status429TooManyRequests;
            Response.Headers.RetryAfter = AuthThrottle.RetryAfterHeader(retryAfter);
            return Page();
        }
        if (!ApiKeyAuthentication.IsAdminKey(configuration, key))
        {
            throttle.Failed(HttpContext);
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
