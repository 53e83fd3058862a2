using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Monolith.Domain.Secrets;
using Monolith.Domain.Transfers;
using Monolith.Worker.Engine;
using Monolith.Worker.Outbound;

namespace Monolith.Worker.Jobs.Transfers;

/// <summary>
/// <c>{type: "http", url, method: PUT|POST, headers?, form?}</c>, through the outbound client (every address,
/// redirects included, checked; the headers never follow a redirect to another origin, the document is never sent
/// twice: a 307/308 fails the transfer). PUT sends the document as the body; POST sends <c>multipart/form-data</c>: the
/// <c>form</c> fields, the metadata fields, the document as <c>file</c>, and last a <c>sha256</c> field with the
/// hex SHA-256 of the file (known by then, since it is hashed as it goes out). Every attempt carries the same
/// <c>Idempotency-Key</c>; a PUT whose SHA-256 is known up front (an upload, a URL on a later attempt) carries it
/// as <c>Content-Digest</c> (RFC 9530). Answers follow <see cref="OutboundFailures"/>.
/// </summary>
public sealed class HttpDestination(IHttpClientFactory clients, SecretProtector secrets) : IDestination
{
    public const string FileField = "file";
    public const string Sha256Field = "sha256";

    public string Type => TransferDestination.HttpType;

    public async Task<DestinationAnswer> SendAsync(TransferDestination destination, OutgoingDocument document, CancellationToken ct)
    {
        var url = new Uri(destination.Url ?? throw new PermanentJobException("The destination names no URL."));
        var method = string.Equals(destination.Method, "POST", StringComparison.OrdinalIgnoreCase) ? HttpMethod.Post : HttpMethod.Put;
        var headers = TransferHeaders.Decrypt(secrets, destination.Headers, "destination");
        var fields = TransferHeaders.DecryptForm(secrets, destination.Form);

        var file = new StreamContent(document.Content, TransferStream.BufferSize);
        if (document.Length is { } length) file.Headers.ContentLength = length;
        file.Headers.ContentType = MediaTypeHeaderValue.TryParse(document.ContentType, out var type) ? type : new MediaTypeHeaderValue("application/octet-stream");
        HttpContent content;
        if (method == HttpMethod.Post)
        {
            var form = new MultipartFormDataContent();
            foreach (var (name, value) in fields) form.Add(new StringContent(value), name);
            foreach (var (name, value) in document.Metadata) form.Add(new StringContent(value), name);
            form.Add(file, FileField, document.FileName);
            form.Add(new Sha256FieldContent(document.Content), Sha256Field);
            content = form;
        }
        else
        {
            content = file;
            if (document.Content.ExpectedSha256 is { } expected)
            {
                content.Headers.TryAddWithoutValidation("Content-Digest", $"sha-256=:{Convert.ToBase64String(Convert.FromHexString(expected))}:");
            }
        }

        using var request = new HttpRequestMessage(method, url) { Content = content };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", document.IdempotencyKey);
        TransferHeaders.Apply(request, method == HttpMethod.Put ? content : null, headers);
        try
        {
            using var response = await clients.CreateClient(OutboundHttp.ClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            OutboundFailures.ThrowIfFailed(response, "The destination");
            if (!document.Content.Completed)
            {
                throw new RetryableJobException(
                    $"The destination answered {(int)response.StatusCode} before receiving the whole document ({document.Content.BytesDelivered:N0} bytes sent).");
            }
            return new DestinationAnswer((int)response.StatusCode, response.Headers.Location?.ToString());
        }
        catch (Exception ex) when (ex is not (PermanentJobException or RetryableJobException) && FindSourceFailure(ex) is null
                                   && OutboundFailures.Classify(ex, "The destination", ct) is { } verdict)
        {
            throw verdict;
        }
    }

    /// <summary>A failure of the source or of its verification, carried out of the HTTP stack inside its exception.</summary>
    private static Exception? FindSourceFailure(Exception? ex)
    {
        for (; ex is not null; ex = ex.InnerException)
        {
            if (ex is SourceReadException or TransferVerificationException) return ex;
        }
        return null;
    }

    /// <summary>The <c>sha256</c> form field: written after the file, when its hash is known; always 64 hex characters.</summary>
    private sealed class Sha256FieldContent(TransferStream stream) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream target, TransportContext? context) =>
            target.WriteAsync(Encoding.ASCII.GetBytes(stream.Sha256 ?? throw new InvalidOperationException("The file was not sent to its end."))).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = 64;
            return true;
        }
    }
}
