using System.Net;
using Monolith.Worker.Engine;

namespace Monolith.Worker.Outbound;

/// <summary>
/// How a job tells a failure worth retrying from one that is not, for every call it makes to someone else's
/// server (sources, destinations, vendors, webhooks): one rule, so every job type retries the same things.
/// Retryable: network errors, timeouts, 5xx, 408 and 429 (with the server's Retry-After as the least delay).
/// Not retryable: any other 4xx, an address the policy refuses, and a redirect <see cref="OutboundRedirectHandler"/> refuses.
/// The outbound proxy's failures (<see cref="OutboundProxyException"/>) say themselves whether they are retried.
/// </summary>
public static class OutboundFailures
{
    /// <summary>Longest Retry-After honoured; a server asking for more gets this, then the normal backoff applies.</summary>
    public static readonly TimeSpan MaxRetryAfter = TimeSpan.FromHours(1);

    public static bool IsRetryable(HttpStatusCode status) =>
        (int)status >= 500 || status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests;

    /// <summary>
    /// Throws for an unsuccessful answer: <see cref="RetryableJobException"/> (carrying Retry-After) or
    /// <see cref="PermanentJobException"/>. <paramref name="what"/> names the party (<c>The destination</c>).
    /// </summary>
    public static void ThrowIfFailed(HttpResponseMessage response, string what)
    {
        if (response.IsSuccessStatusCode) return;
        var status = (int)response.StatusCode;
        var message = $"{what} answered {status} {response.ReasonPhrase}.";
        if (!IsRetryable(response.StatusCode)) throw new PermanentJobException(message);
        throw new RetryableJobException(message, retryAfter: RetryAfter(response));
    }

    /// <summary>The server's Retry-After (seconds or a date), capped at <see cref="MaxRetryAfter"/>; null when absent.</summary>
    public static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        var delay = header?.Delta ?? (header?.Date is { } date ? date - DateTimeOffset.UtcNow : null);
        if (delay is null) return null;
        return delay < TimeSpan.Zero ? TimeSpan.Zero : delay > MaxRetryAfter ? MaxRetryAfter : delay;
    }

    /// <summary>
    /// Turns an exception from a call into the job's verdict: a refused address or redirect fails at once; network errors
    /// and timeouts are retried. Returns null for exceptions that are not about the call (let them through).
    /// Call as <c>catch (Exception ex) when (OutboundFailures.Classify(ex, "The source", ct) is { } verdict) { throw verdict; }</c>.
    /// </summary>
    public static Exception? Classify(Exception ex, string what, CancellationToken ct)
    {
        if (OutboundHttp.IsRefusedAddress(ex, out var refused)) return new PermanentJobException($"{what}: {refused!.Message}", ex);
        if (ex is RetryableJobException or PermanentJobException) return null;
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (e is OutboundProxyException proxy)
            {
                return proxy.Retryable ? new RetryableJobException($"{what}: {proxy.Message}", ex) : new PermanentJobException($"{what}: {proxy.Message}", ex);
            }
        }
        if (ex is HttpRequestException or IOException) return new RetryableJobException($"{what} could not be reached: {ex.Message}", ex);
        if (ex is OperationCanceledException && !ct.IsCancellationRequested) return new RetryableJobException($"{what} timed out.", ex);
        return null;
    }
}
