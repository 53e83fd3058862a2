using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Monolith.Worker.Engine;
using Monolith.Worker.Outbound;

namespace Monolith.Worker.Jobs.HttpRequests;

/// <summary>
/// Calls a vendor on a client's behalf (identity checks, document scans: slow calls moved off the client's request
/// path). The call goes through the <c>outbound</c> client, so the address rules hold for every connection and
/// redirect; it has its own timeout. Answers are judged by <see cref="OutboundFailures"/>: network errors, timeouts,
/// 5xx, 408 and 429 are retried (429's Retry-After honoured), any other 4xx fails the job at once. A 2xx answer
/// (status, the chosen headers, the body up to <see cref="HttpRequestOptions.MaxResponseBytes"/>) is the result,
/// which the engine stores encrypted and deletes after its time to live.
/// <para>Client-encrypted documents (<see cref="HttpRequestDocument"/>) are all decrypted once before the call
/// (<see cref="EncryptedDocuments"/>: one that does not fails the job at once, nothing sent), then again into the
/// request body as it is sent (<see cref="DocumentRequestBody"/>).</para>
/// <para>At least once: a vendor may see the same call twice (after a crash); send an idempotency key header the
/// vendor honours when that matters, e.g. the job's id.</para>
/// </summary>
public sealed class HttpRequestJob(
    IHttpClientFactory clients, OutboundAddressPolicy addresses, EncryptedDocuments documents, IOptions<HttpRequestOptions> options,
    ILogger<HttpRequestJob> logger)
    : IJobHandler<HttpRequestPayload>
{
    private const string What = "The vendor";

    public async Task<object?> HandleAsync(HttpRequestPayload payload, JobContext context, CancellationToken ct)
    {
        var url = new Uri(payload.Url!);
        if (await addresses.CheckAsync(url, ct) is { } refused) throw new PermanentJobException($"{What}: {refused}");

        // Every document decrypts, or the job fails here: no byte of a call with a bad one is sent.
        var verified = payload.Documents is { Count: > 0 } named ? await documents.VerifyAsync(named, context.TenantId, ct) : [];

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(payload.TimeoutSeconds ?? options.Value.DefaultTimeoutSeconds));
        using var request = BuildRequest(payload, url, verified.Count > 0 ? documents.RequestBody(payload, verified) : null);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            using var response = await clients.CreateClient(OutboundHttp.ClientName)
                .SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            logger.LogInformation("Vendor answered {Status} after {ElapsedMs} ms", (int)response.StatusCode, clock.ElapsedMilliseconds);
            OutboundFailures.ThrowIfFailed(response, What);
            return await ReadResultAsync(response, payload.ResponseHeaders, timeout.Token);
        }
        catch (Exception ex) when (DocumentCipher.FindUnreadable(ex) is { } unreadable)
        {
            // The stored cipher text changed after it was verified: the request was cut before its last block.
            throw new PermanentJobException($"A document cannot be decrypted: {unreadable.Message} The request was aborted before its end.", ex);
        }
        catch (Exception ex) when (OutboundFailures.Classify(ex, What, ct) is { } verdict)
        {
            throw verdict;
        }
    }

    /// <param name="documentBody">The body when the payload has documents (<see cref="DocumentRequestBody"/>).</param>
    private static HttpRequestMessage BuildRequest(HttpRequestPayload payload, Uri url, HttpContent? documentBody)
    {
        var request = new HttpRequestMessage(new HttpMethod(payload.Method!.ToUpperInvariant()), url);
        if (documentBody is not null)
        {
            request.Content = documentBody;
        }
        else if (payload.Body is { } body && body.ValueKind != JsonValueKind.Null)
        {
            request.Content = body.ValueKind == JsonValueKind.String
                ? new StringContent(body.GetString()!, Encoding.UTF8, "text/plain")
                : new StringContent(body.GetRawText(), Encoding.UTF8, "application/json");
        }
        foreach (var (name, value) in payload.Headers ?? [])
        {
            if (request.Headers.TryAddWithoutValidation(name, value)) continue;
            // Content headers (Content-Type, Content-Language …) belong to the body; without a body they are dropped.
            if (request.Content is { } content)
            {
                content.Headers.Remove(name);
                content.Headers.TryAddWithoutValidation(name, value);
            }
        }
        return request;
    }

    private async Task<HttpRequestResult> ReadResultAsync(HttpResponseMessage response, List<string>? keep, CancellationToken ct)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var name in keep ?? [])
        {
            if (response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values))
            {
                headers[name] = string.Join(", ", values);
            }
        }

        var limit = options.Value.MaxResponseBytes;
        await using var stream = await response.Content.ReadAsStreamAsync(ct);
        var buffer = new byte[Math.Min(limit + 1, 81_920)];
        using var kept = new MemoryStream();
        var truncated = false;
        int read;
        while ((read = await stream.ReadAsync(buffer, ct)) > 0)
        {
            var room = limit - (int)kept.Length;
            if (read > room)
            {
                kept.Write(buffer, 0, room);
                truncated = true;
                break;
            }
            kept.Write(buffer, 0, read);
        }
        var bytes = kept.ToArray();
        var type = response.Content.Headers.ContentType;
        return IsText(type)
            ? new HttpRequestResult((int)response.StatusCode, headers, TextEncoding(type).GetString(bytes), null, truncated)
            : new HttpRequestResult((int)response.StatusCode, headers, null, Convert.ToBase64String(bytes), truncated);
    }

    private static bool IsText(MediaTypeHeaderValue? type)
    {
        var media = type?.MediaType;
        return media is null || media.StartsWith("text/", StringComparison.OrdinalIgnoreCase)
            || media.Contains("json", StringComparison.OrdinalIgnoreCase) || media.Contains("xml", StringComparison.OrdinalIgnoreCase)
            || media.Equals("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase)
            || media.Equals("application/javascript", StringComparison.OrdinalIgnoreCase);
    }

    private static Encoding TextEncoding(MediaTypeHeaderValue? type)
    {
        try
        {
            return type?.CharSet is { Length: > 0 } charset ? Encoding.GetEncoding(charset.Trim('"')) : Encoding.UTF8;
        }
        catch (ArgumentException)
        {
            return Encoding.UTF8;
        }
    }
}
