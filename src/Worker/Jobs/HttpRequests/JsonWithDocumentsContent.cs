using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace Monolith.Worker.Jobs.HttpRequests;

/// <summary>
/// A JSON body in which some string values are documents' base64 (<c>as: "base64"</c>), streamed: the body is
/// written with a unique marker at each document's path, then sent as the text around the markers with each
/// document's base64 (<see cref="DecryptedDocumentContent"/>) in place of its marker, so a large document is never
/// whole in memory, as text or as bytes. The length is known in advance (Content-Length).
/// </summary>
public sealed class JsonWithDocumentsContent : HttpContent
{
    private readonly List<object> _pieces = []; // byte[] (JSON text) or HttpContent (a document's base64)

    /// <param name="body">The request body, a JSON object or array (changed: the documents' paths are set).</param>
    /// <param name="documents">Each document's body path and its base64 content.</param>
    /// <param name="mediaType">The Content-Type (the payload's header, else <c>application/json</c>).</param>
    public JsonWithDocumentsContent(JsonNode body, IReadOnlyList<(BodyPath Path, HttpContent Base64)> documents, string? mediaType)
    {
        var markers = new List<(byte[] Marker, HttpContent Content)>();
        foreach (var (path, content) in documents)
        {
            var marker = $"monolith-document-{Guid.NewGuid():N}";
            if (!path.Set(body, JsonValue.Create(marker))) throw new InvalidOperationException($"The body has no place for '{path.Text}'.");
            markers.Add((Encoding.UTF8.GetBytes(marker), content));
        }
        var text = Encoding.UTF8.GetBytes(body.ToJsonString());
        var placed = markers.Select(m => (At: text.AsSpan().IndexOf(m.Marker), m.Marker, m.Content)).OrderBy(m => m.At).ToList();
        var from = 0;
        foreach (var (at, marker, content) in placed)
        {
            // Every marker is written once (a later path may have replaced an earlier one's value: validation refuses overlaps).
            if (at < 0) throw new InvalidOperationException("A document's place in the body was overwritten.");
            _pieces.Add(text[from..at]);
            _pieces.Add(content);
            from = at + marker.Length;
        }
        _pieces.Add(text[from..]);
        Headers.ContentType = MediaTypeHeaderValue.Parse(mediaType ?? "application/json; charset=utf-8");
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken ct)
    {
        foreach (var piece in _pieces)
        {
            if (piece is byte[] text) await stream.WriteAsync(text, ct);
            else await ((HttpContent)piece).CopyToAsync(stream, context, ct);
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        foreach (var piece in _pieces)
        {
            if (piece is byte[] text) length += text.Length;
            else if (((HttpContent)piece).Headers.ContentLength is { } part) length += part;
            else return false;
        }
        return true;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var content in _pieces.OfType<HttpContent>()) content.Dispose();
        }
        base.Dispose(disposing);
    }
}
