using System.Text.Json;
using System.Text.Json.Nodes;
using Monolith.Worker.Engine;

namespace Monolith.Worker.Jobs.HttpRequests;

/// <summary>
/// One call to a vendor. Every header value, and each body value named in <paramref name="Sensitive"/>, is stored
/// encrypted (<see cref="ISecretPayload{TSelf}"/>) and decrypted only just before the call.
/// </summary>
/// <param name="Method">GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS.</param>
/// <param name="Url">An absolute http:// or https:// URL; the service's address rules apply (no private or loopback addresses
/// unless allowed by <c>Transfers:AllowedHosts</c>). Do not put secrets in it: it is stored as given.</param>
/// <param name="Headers">Request headers, name to value (values are encrypted at rest).</param>
/// <param name="Body">Any JSON value: an object or array is sent as JSON (<c>application/json</c> unless a Content-Type header
/// says otherwise), a string as its text (<c>text/plain</c> unless told).</param>
/// <param name="Sensitive">Paths of body values to encrypt at rest (<c>ssn</c>, <c>$.person.dob</c>, <c>items[0].id</c>); each must exist.</param>
/// <param name="TimeoutSeconds">Longest the call may take, 1 to 300 (default <c>HttpRequests:DefaultTimeoutSeconds</c>, 30); a timeout is retried.</param>
/// <param name="ResponseHeaders">Names of response headers to keep in the result (none by default).</param>
/// <param name="Documents">Client-encrypted uploads to decrypt and send (<see cref="HttpRequestDocument"/>); their keys and IVs are encrypted at rest.</param>
public sealed record HttpRequestPayload(
    string? Method,
    string? Url,
    Dictionary<string, string>? Headers = null,
    JsonElement? Body = null,
    List<string>? Sensitive = null,
    int? TimeoutSeconds = null,
    List<string>? ResponseHeaders = null,
    List<HttpRequestDocument>? Documents = null) : ISecretPayload<HttpRequestPayload>
{
    public HttpRequestPayload Protect(PayloadSecrets secrets) => this with
    {
        Headers = Headers is null ? null : secrets.ProtectValues(Headers),
        Body = MapSensitive(p => secrets.ProtectValue(p), forward: true),
        Documents = Documents?.Select(d => d with { Key = secrets.Protect(d.Key!), Iv = secrets.Protect(d.Iv!) }).ToList(),
    };

    public HttpRequestPayload Unprotect(PayloadSecrets secrets) => this with
    {
        Headers = Headers is null ? null : secrets.UnprotectValues(Headers),
        Body = MapSensitive(secrets.UnprotectValue, forward: false),
        Documents = Documents?.Select(d => d with { Key = secrets.Unprotect(d.Key!), Iv = secrets.Unprotect(d.Iv!) }).ToList(),
    };

    /// <summary>The body with each sensitive value replaced (in reverse order on the way back, though paths never overlap).</summary>
    private JsonElement? MapSensitive(Func<JsonNode?, JsonNode?> map, bool forward)
    {
        if (Body is not { } body || Sensitive is not { Count: > 0 }) return Body;
        var root = JsonNode.Parse(body.GetRawText());
        var paths = Sensitive.Select(p => BodyPath.Parse(p, out _)!).ToList();
        if (!forward) paths.Reverse();
        foreach (var path in paths)
        {
            if (!path.Replace(root, map)) throw new PermanentJobException($"The body has no value at sensitive path '{path.Text}'.");
        }
        return JsonSerializer.SerializeToElement(root);
    }
}
