using Monolith.Domain.Text;

namespace Monolith.Api.Infrastructure;

/// <summary>
/// The boundary check for text in query strings, for every endpoint at once: a parameter whose name or value holds
/// text PostgreSQL cannot store (<see cref="StorableText"/>; <c>?type=%00</c>, <c>?filter=a:%00</c>,
/// <c>?filename=a%00b</c>) is answered 400 naming the parameter as given, before any handler reads it. (Paths cannot
/// carry it: the server refuses a NUL in a path, and leaves bytes that are not UTF-8 percent-encoded.) JSON bodies
/// are checked while they are bound (<see cref="StorableTextJson"/>).
/// </summary>
public sealed class UnstorableQueryMiddleware(RequestDelegate next, IProblemDetailsService problems)
{
    public async Task InvokeAsync(HttpContext http)
    {
        if (http.Request.QueryString.HasValue && FirstUnstorable(http.Request.Query) is { } name)
        {
            http.Response.StatusCode = StatusCodes.Status400BadRequest;
            await problems.WriteAsync(new ProblemDetailsContext
            {
                HttpContext = http,
                ProblemDetails = new HttpValidationProblemDetails(new Dictionary<string, string[]>
                {
                    [StorableText.Sanitize(name)!] = [StorableText.Reason],
                })
                {
                    Status = StatusCodes.Status400BadRequest,
                    Title = "One or more validation errors occurred.",
                },
            });
            return;
        }
        await next(http);
    }

    private static string? FirstUnstorable(IQueryCollection query)
    {
        foreach (var (name, values) in query)
        {
            if (!StorableText.IsStorable(name)) return name;
            foreach (var value in values)
            {
                if (!StorableText.IsStorable(value)) return name;
            }
        }
        return null;
    }
}
