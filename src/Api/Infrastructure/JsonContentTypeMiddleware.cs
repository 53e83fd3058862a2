using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Net.Http.Headers;

namespace Monolith.Api.Infrastructure;

/// <summary>
/// On an endpoint that takes a JSON body, a body sent as anything but JSON in UTF-8 (RFC 8259 §8.1) is answered 415
/// with a problem naming <c>Content-Type</c>, before binding: <c>text/plain</c> or no Content-Type (the framework's
/// own 415 names nothing), and <c>application/json; charset=bogus</c> or <c>charset=utf-16</c> (binding would fail on
/// the charset's name with a 500, or read another encoding). Endpoints that take any body (an upload's raw bytes,
/// a multipart form) are left alone. (A media type no endpoint takes, <c>text/plain</c>, is routing's own 415.)
/// </summary>
public sealed class JsonContentTypeMiddleware(RequestDelegate next, IProblemDetailsService problems)
{
    public const string Reason = "Send the body as JSON in UTF-8: Content-Type application/json, with no charset or charset=utf-8.";

    public async Task InvokeAsync(HttpContext http)
    {
        if (TakesJson(http) && HasBody(http) && !IsJsonInUtf8(http.Request))
        {
            http.Response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
            await problems.WriteAsync(new ProblemDetailsContext
            {
                HttpContext = http,
                ProblemDetails = new HttpValidationProblemDetails(new Dictionary<string, string[]> { ["Content-Type"] = [Reason] })
                {
                    Status = StatusCodes.Status415UnsupportedMediaType,
                    Title = "The body is not JSON in UTF-8.",
                },
            });
            return;
        }
        await next(http);
    }

    /// <summary>
    /// Whether the request says JSON in UTF-8. A quoted <c>charset="utf-8"</c> (as RFC 9110 allows) is rewritten
    /// unquoted, since binding would look the quotes up as part of the name.
    /// </summary>
    internal static bool IsJsonInUtf8(HttpRequest request)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType)
            || !(mediaType.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
                 || mediaType.Suffix.Equals("json", StringComparison.OrdinalIgnoreCase)))
        {
            return false;
        }
        var charset = HeaderUtilities.RemoveQuotes(mediaType.Charset);
        if (charset.Length == 0) return true;
        if (!charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase)) return false;
        if (charset != mediaType.Charset)
        {
            mediaType.Charset = charset;
            request.ContentType = mediaType.ToString();
        }
        return true;
    }

    private static bool HasBody(HttpContext http) =>
        http.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody ?? http.Request.ContentLength > 0;

    /// <summary>The endpoint binds a JSON body (minimal APIs declare it in <see cref="IAcceptsMetadata"/>).</summary>
    /// <summary>Only JSON: an endpoint that also takes a form (POST /v1/datasets) reads and checks its JSON itself (JsonBody).</summary>
    private static bool TakesJson(HttpContext http) =>
        http.GetEndpoint()?.Metadata.GetMetadata<IAcceptsMetadata>()?.ContentTypes is { Count: > 0 } types
        && types.All(t => t.Equals("application/json", StringComparison.OrdinalIgnoreCase));
}
