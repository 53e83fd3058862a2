namespace Monolith.Worker.Jobs.HttpRequests;

/// <summary>
/// What a vendor answered, as the job's result (stored encrypted, deleted after its time to live).
/// </summary>
/// <param name="Status">The HTTP status code (2xx: other answers fail or retry the job).</param>
/// <param name="Headers">The response headers the payload asked to keep (<c>responseHeaders</c>), name to value.</param>
/// <param name="Body">The body as text, when it is text (text/*, JSON, XML, form data, or no content type).</param>
/// <param name="BodyBase64">The body as base64, when it is binary.</param>
/// <param name="Truncated">True when the body was longer than <c>HttpRequests:MaxResponseBytes</c> and was cut there.</param>
public sealed record HttpRequestResult(int Status, Dictionary<string, string> Headers, string? Body, string? BodyBase64, bool Truncated);
