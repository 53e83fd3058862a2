using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Monolith.Worker.Storage;

namespace Monolith.Worker.Jobs.HttpRequests;

/// <summary>
/// The request body of a vendor call with documents, decrypted as it is sent (<see cref="DecryptedDocumentContent"/>):
/// <list type="bullet">
/// <item><c>multipart</c>: <c>multipart/form-data</c>, each top-level field of the body a form field (a string as its
/// text, any other value as its JSON), then each document a part with its name, file name and content type.</item>
/// <item><c>base64</c>: the JSON body with each document's base64 as the string value at its path
/// (<see cref="JsonWithDocumentsContent"/>).</item>
/// </list>
/// </summary>
public static class DocumentRequestBody
{
    public static HttpContent Create(HttpRequestPayload payload, IReadOnlyList<VerifiedDocument> documents, IFileStore store)
    {
        var body = payload.Body is { ValueKind: not JsonValueKind.Null } element ? JsonNode.Parse(element.GetRawText()) : null;
        if (documents[0].Document.As == HttpRequestDocument.Base64)
        {
            var contentType = payload.Headers?.FirstOrDefault(h => h.Key.Equals("Content-Type", StringComparison.OrdinalIgnoreCase)).Value;
            return new JsonWithDocumentsContent(body!,
                documents.Select(d => (BodyPath.Parse(d.Document.Field, out _)!, (HttpContent)new DecryptedDocumentContent(store, d, base64: true))).ToList(),
                contentType);
        }

        var form = new MultipartFormDataContent();
        foreach (var (name, value) in body?.AsObject() ?? [])
        {
            form.Add(value?.GetValueKind() == JsonValueKind.String
                ? new StringContent(value.GetValue<string>(), Encoding.UTF8)
                : new StringContent(value?.ToJsonString() ?? "null", Encoding.UTF8, "application/json"), name);
        }
        foreach (var document in documents)
        {
            var part = new DecryptedDocumentContent(store, document, base64: false);
            part.Headers.ContentType = MediaTypeHeaderValue.Parse(document.ContentType);
            form.Add(part, document.Document.Field!, document.FileName);
        }
        return form;
    }
}
