using System.Net;
using Monolith.Domain.Secrets;
using Monolith.Domain.Transfers;
using Monolith.Worker.Engine;
using Monolith.Worker.Outbound;

namespace Monolith.Worker.Jobs.Transfers;

/// <summary>
/// <c>{type: "url", url, headers?}</c>: a GET through the outbound client (every address, redirects included,
/// checked; the headers follow redirects on the URL's origin only). 404 and 410 mean the document does not exist: the transfer fails at once; other answers follow
/// <see cref="OutboundFailures"/>. The first attempt that reads the document to its end records its SHA-256, size,
/// ETag and Last-Modified on the transfer; a later attempt that finds any of them changed fails rather than deliver
/// another document (or a mix of two).
/// </summary>
public sealed class UrlSource(IHttpClientFactory clients, SecretProtector secrets) : ISource
{
    public string Type => TransferSource.UrlType;

    public async Task<SourceDocument> OpenAsync(Transfer transfer, TransferSource source, CancellationToken ct)
    {
        var url = new Uri(source.Url ?? throw new PermanentJobException("The source names no URL."));
        var headers = TransferHeaders.Decrypt(secrets, source.Headers, "source");
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        TransferHeaders.Apply(request, null, headers);
        HttpResponseMessage response;
        try
        {
            response = await clients.CreateClient(OutboundHttp.ClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        }
        catch (Exception ex) when (OutboundFailures.Classify(ex, "The source", ct) is { } verdict)
        {
            throw verdict;
        }
        finally
        {
            request.Dispose();
        }
        try
        {
            if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Gone)
            {
                throw new PermanentJobException($"The source answered {(int)response.StatusCode} {response.ReasonPhrase}: the document does not exist.");
            }
            OutboundFailures.ThrowIfFailed(response, "The source");

            var length = response.Content.Headers.ContentLength;
            var etag = response.Headers.ETag?.ToString();
            var lastModified = response.Content.Headers.LastModified?.ToString("R");
            if (transfer.SourceSha256 is not null)
            {
                Changed("ETag", transfer.SourceETag, etag);
                Changed("Last-Modified", transfer.SourceLastModified, lastModified);
                if (length is not null && transfer.SourceSize is not null && length != transfer.SourceSize)
                {
                    throw new TransferVerificationException(
                        $"The source changed between attempts: it was {transfer.SourceSize:N0} bytes, it is now {length:N0}.");
                }
            }
            var content = await response.Content.ReadAsStreamAsync(ct);
            var fileName = response.Content.Headers.ContentDisposition?.FileNameStar ?? response.Content.Headers.ContentDisposition?.FileName;
            fileName = Path.GetFileName(fileName?.Trim('"').Replace('\\', '/') ?? "");
            if (fileName.Length == 0) fileName = Path.GetFileName(Uri.UnescapeDataString(url.AbsolutePath));
            if (fileName.Length == 0) fileName = "document";
            return new SourceDocument(content, length, response.Content.Headers.ContentType?.ToString() ?? "application/octet-stream", fileName,
                ExpectedSha256: transfer.SourceSha256, ExpectedLength: transfer.SourceSize, etag, lastModified, Owner: response);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    private static void Changed(string header, string? recorded, string? now)
    {
        if (recorded is not null && now is not null && recorded != now)
        {
            throw new TransferVerificationException($"The source changed between attempts: its {header} was {recorded}, it is now {now}.");
        }
    }
}
