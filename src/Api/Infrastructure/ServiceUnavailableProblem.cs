using Microsoft.AspNetCore.Mvc;

namespace Monolith.Api.Infrastructure;

/// <summary>
/// The 503 a request answers while something it needs is away (the database, the file store): Retry-After and an
/// RFC 9457 problem saying what is unavailable and that nothing was changed.
/// </summary>
public static class ServiceUnavailableProblem
{
    public static async ValueTask<bool> WriteAsync(IProblemDetailsService problems, HttpContext http, string title, string detail, int retryAfterSeconds)
    {
        http.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        http.Response.Headers.RetryAfter = retryAfterSeconds.ToString();
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails = new ProblemDetails { Status = StatusCodes.Status503ServiceUnavailable, Title = title, Detail = detail },
        });
    }
}
