using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using FluentValidation;

namespace Monolith.Worker.Jobs.HttpRequests;

/// <summary>
/// The rules of a payload's <c>documents</c> (<see cref="HttpRequestDocument"/>), each failure named by its field
/// (<c>documents[0].key</c>). Messages never quote a key or an IV.
/// </summary>
public static class HttpRequestDocumentRules
{
    public const int MaxDocuments = 20, MaxFieldLength = 200, MaxFileNameLength = 255;

    /// <summary>Methods that carry no body, so no document.</summary>
    public static readonly string[] BodilessMethods = ["GET", "HEAD"];

    public static void Check(HttpRequestPayload payload, ValidationContext<HttpRequestPayload> context)
    {
        var documents = payload.Documents!;
        if (documents.Count > MaxDocuments) { context.AddFailure("documents", $"At most {MaxDocuments} documents."); return; }
        if (documents.Count == 0) return;
        if (BodilessMethods.Contains(payload.Method?.ToUpperInvariant()))
        {
            context.AddFailure("documents", $"Documents are sent in the request body: use a method with one (not {string.Join(" or ", BodilessMethods)}).");
        }
        var modes = documents.Select(d => d?.As).Where(HttpRequestDocument.Modes.Contains).Distinct().ToList();
        if (modes.Count > 1) { context.AddFailure("documents", "All documents of a call are sent the same way: all multipart, or all base64."); return; }

        var body = payload.Body is { } element ? JsonNode.Parse(element.GetRawText()) : null;
        if (modes is [HttpRequestDocument.Multipart])
        {
            if (body is not null and not JsonObject)
            {
                context.AddFailure("body", "With multipart documents the body is a JSON object whose fields become form fields (or no body).");
            }
            if (payload.Headers?.Keys.Any(k => k.Equals("Content-Type", StringComparison.OrdinalIgnoreCase)) == true)
            {
                context.AddFailure("headers", "With multipart documents the service sets Content-Type (multipart/form-data with its boundary).");
            }
        }
        if (modes is [HttpRequestDocument.Base64] && body is not (JsonObject or JsonArray))
        {
            context.AddFailure("body", "With base64 documents the body is a JSON object (or array) to set their fields in.");
            body = null;
        }

        var taken = (payload.Sensitive ?? []).Select(p => BodyPath.Parse(p, out _)).OfType<BodyPath>().ToList();
        for (var i = 0; i < documents.Count; i++)
        {
            var field = $"documents[{i}]";
            if (documents[i] is not { } document) { context.AddFailure(field, "A document is an object: {uploadId, key, iv, as, field}."); continue; }
            if (document.UploadId is null || document.UploadId == Guid.Empty) context.AddFailure($"{field}.uploadId", "The id of an upload (POST /v1/uploads) is required.");
            if (!IsBase64Of(document.Key, HttpRequestDocument.KeyBytes))
            {
                context.AddFailure($"{field}.key", $"The AES-256 key is required: {HttpRequestDocument.KeyBytes} bytes in base64.");
            }
            if (!IsBase64Of(document.Iv, HttpRequestDocument.IvBytes))
            {
                context.AddFailure($"{field}.iv", $"The IV is required: {HttpRequestDocument.IvBytes} bytes (96 bits) in base64.");
            }
            switch (document.As)
            {
                case HttpRequestDocument.Multipart:
                    if (!IsHeaderText(document.Field, MaxFieldLength)) context.AddFailure($"{field}.field", $"The part's name is required: 1 to {MaxFieldLength} characters, no quotes or control characters.");
                    if (document.FileName is not null && !IsHeaderText(document.FileName, MaxFileNameLength))
                    {
                        context.AddFailure($"{field}.fileName", $"1 to {MaxFileNameLength} characters, no quotes, backslashes or control characters.");
                    }
                    if (document.ContentType is not null && !MediaTypeHeaderValue.TryParse(document.ContentType, out _))
                    {
                        context.AddFailure($"{field}.contentType", "Not a media type (image/jpeg).");
                    }
                    break;
                case HttpRequestDocument.Base64:
                    if (document.FileName is not null || document.ContentType is not null)
                    {
                        context.AddFailure(document.FileName is not null ? $"{field}.fileName" : $"{field}.contentType", "Only a multipart part has a file name and a content type.");
                    }
                    CheckBodyPath(document.Field, body, taken, $"{field}.field", context);
                    break;
                default:
                    context.AddFailure($"{field}.as", $"How the document is sent: {string.Join(" or ", HttpRequestDocument.Modes)}.");
                    break;
            }
        }
    }

    private static void CheckBodyPath(string? text, JsonNode? body, List<BodyPath> taken, string field, ValidationContext<HttpRequestPayload> context)
    {
        if (BodyPath.Parse(text, out var error) is not { } path) { context.AddFailure(field, error!); return; }
        if (body is null) return; // the body's own failure says why
        if (!path.Set(body.DeepClone(), null)) { context.AddFailure(field, "The body has no object (or array item) at this path's parent."); return; }
        if (taken.FirstOrDefault(p => p.Overlaps(path)) is { } other)
        {
            context.AddFailure(field, $"Overlaps '{other.Text}' (a sensitive path or another document's).");
            return;
        }
        taken.Add(path);
    }

    private static bool IsBase64Of(string? text, int bytes)
    {
        if (text is null || text.Length > (bytes + 2) / 3 * 4 + 4) return false;
        Span<byte> buffer = stackalloc byte[bytes + 3];
        return Convert.TryFromBase64String(text, buffer, out var written) && written == bytes;
    }

    /// <summary>A value that can go in a Content-Disposition header as a quoted string.</summary>
    private static bool IsHeaderText(string? text, int max) =>
        text is { Length: > 0 } && text.Length <= max && !text.Any(c => char.IsControl(c) || c is '"' or '\\');
}
