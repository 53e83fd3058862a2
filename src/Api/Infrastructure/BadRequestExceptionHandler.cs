using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Diagnostics;
using Monolith.Domain.Text;

namespace Monolith.Api.Infrastructure;

/// <summary>
/// A body that is not valid JSON, a value of the wrong type or format (a bad date, a string for a number), or text
/// that cannot be stored (<see cref="StorableTextJson"/>): 400 with a validation problem naming the field by its JSON
/// path, never a 500.
/// </summary>
public sealed partial class BadRequestExceptionHandler(IProblemDetailsService problems) : IExceptionHandler
{
    /// <summary>ASP.NET Core's message for a query or route value of the wrong type: Failed to bind parameter "int? limit" from "abc".</summary>
    [GeneratedRegex("""parameter "(?:[^ "]+ )?(?<name>[A-Za-z0-9_]+)" from""")]
    private static partial Regex BindFailureRegex();

    private static readonly Regex BindFailure = BindFailureRegex();

    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken ct)
    {
        if (exception is not BadHttpRequestException bad) return false;

        string field, reason;
        if (bad.InnerException is UnstorableJsonTextException unstorable)
        {
            field = unstorable.Field is { Length: > 0 } path ? path : "body";
            reason = UnstorableJsonTextException.Reason;
        }
        else if (bad.InnerException is JsonException json)
        {
            field = json.Path is { Length: > 1 } path ? path.TrimStart('$', '.') : "body";
            reason = field == "body" ? "The body is not valid JSON." : "The value has the wrong type or format.";
        }
        else if (BindFailure.Match(bad.Message) is { Success: true } match)
        {
            field = match.Groups["name"].Value;
            reason = "The value has the wrong type or format.";
        }
        else
        {
            (field, reason) = ("request", bad.Message);
        }
        field = StorableText.Sanitize(field)!; // a bad property name is part of the path: never echo its NUL back

        http.Response.StatusCode = bad.StatusCode;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            Exception = exception,
            ProblemDetails = new HttpValidationProblemDetails(new Dictionary<string, string[]> { [field] = [reason] })
            {
                Status = bad.StatusCode,
                Title = "One or more validation errors occurred.",
            },
        });
    }
}
