using System.Text.Json;
using FluentValidation;
using Monolith.Domain.Text;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;

namespace Monolith.Api.Infrastructure;

/// <summary>
/// A small JSON request body read by an endpoint that also takes other bodies (<c>POST /v1/uploads</c> and
/// <c>POST /v1/datasets</c> take a file, or JSON naming one), so cannot bind it: capped at <see cref="MaxBytes"/>,
/// deserialized with the service's JSON options and checked by its FluentValidation validator, as
/// <see cref="ValidationFilter{TRequest}"/> would.
/// </summary>
public static class JsonBody
{
    /// <summary>Largest JSON body read this way: these requests are a few fields.</summary>
    public const long MaxBytes = 64 * 1024;

    /// <summary>Whether the request's body is JSON (<c>application/json</c> or <c>+json</c>).</summary>
    public static bool IsJson(HttpRequest request) =>
        MediaTypeHeaderValue.TryParse(request.ContentType, out var type)
        && (type.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) || type.Suffix.Equals("json", StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// The body as <typeparamref name="T"/>, checked; or the 400 saying why not (keyed by the JSON field, <c>body</c>, or
    /// <c>Content-Type</c> when the body is not JSON in UTF-8, as <see cref="JsonContentTypeMiddleware"/> requires of
    /// endpoints that take only JSON).
    /// </summary>
    public static async Task<(T? Request, ValidationProblem? Problem)> ReadAsync<T>(HttpContext http, CancellationToken ct) where T : class
    {
        if (!JsonContentTypeMiddleware.IsJsonInUtf8(http.Request)) return (null, Invalid("Content-Type", JsonContentTypeMiddleware.Reason));
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = MaxBytes;
        T? request;
        try
        {
            request = await http.Request.ReadFromJsonAsync<T>(ct);
        }
        catch (UnstorableJsonTextException unstorable)
        {
            // As BadRequestExceptionHandler answers it for a bound body: the field named, never its text echoed.
            var field = StorableText.Sanitize(unstorable.Field is { Length: > 0 } path ? path : "body")!;
            return (null, Invalid(field, UnstorableJsonTextException.Reason));
        }
        catch (Exception ex) when (ex is JsonException or BadHttpRequestException)
        {
            return (null, Invalid("body", $"Not a JSON body of at most {MaxBytes} bytes of the expected shape: {ex.Message}"));
        }
        if (request is null) return (null, Invalid("body", "A JSON body is required."));
        var result = await http.RequestServices.GetRequiredService<IValidator<T>>().ValidateAsync(request, ct);
        return result.IsValid
            ? (request, null)
            : (null, TypedResults.ValidationProblem(result.Errors
                .GroupBy(e => ValidationFilter<T>.JsonPath(e.PropertyName))
                .ToDictionary(g => g.Key, g => g.Select(e => e.ErrorMessage).Distinct().ToArray())));
    }

    private static ValidationProblem Invalid(string field, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] });
}
