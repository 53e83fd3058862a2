using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Monolith.Worker.Engine;

namespace Monolith.Api.Infrastructure;

/// <summary>
/// A job PostgreSQL refused for its own data (<see cref="UnstorableJobException"/>, past the boundary checks): 422
/// with a problem saying so, never a 500. Only that request fails; what was submitted with it is stored
/// (<see cref="SubmitCoalescer"/>). The data itself is neither logged nor echoed.
/// </summary>
public sealed class UnstorableJobExceptionHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken ct)
    {
        if (exception is not UnstorableJobException rejected) return false;

        http.Response.StatusCode = StatusCodes.Status422UnprocessableEntity;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status422UnprocessableEntity,
                Title = "The job cannot be stored.",
                Detail = (rejected.SqlState is { } state ? $"PostgreSQL refused its data (SQLSTATE {state})" : "Its text cannot be encoded") +
                         ", e.g. a NUL character (\\u0000) or an unpaired UTF-16 surrogate. Nothing was stored.",
            },
        });
    }
}
