using System.Net;

namespace Monolith.Worker.Outbound;

/// <summary>
/// Follows redirects for the <c>outbound</c> client, in place of <see cref="SocketsHttpHandler"/>'s own (switched off):
/// that one strips only <c>Authorization</c> on a redirect, so an <c>X-Api-Key</c> or <c>Cookie</c> a tenant gave
/// would go to whatever host the first server names. Every outbound call (vendor calls, sync pages, URL sources,
/// HTTP destinations, webhooks) comes through here, so one rule holds for all:
/// <list type="bullet">
/// <item>At most <see cref="MaxRedirects"/> redirects are followed; one more fails the call.</item>
/// <item>Each hop is checked as the first URL is (<see cref="OutboundAddressPolicy.CheckAsync"/>: http(s) only, no
/// credentials in the URL, allowed addresses; the connection is checked again when it opens), and https never
/// leads to plain http.</item>
/// <item>300, 301 and 302 turn a POST into a GET without body; 303 turns anything but HEAD into a GET without body;
/// 307 and 308 keep the method and the body, which is sent again only when it is held in memory (a streamed
/// document is not: the call fails rather than send half of it or read its source twice).</item>
/// <item>A hop to another origin (scheme, host, port) carries none of the request's headers: every header on an
/// outbound request is the tenant's or the service's (the HTTP stack adds its own, Host included, again). A hop
/// to another origin that would carry the body (307, 308) is refused: the body is the tenant's too (a vendor
/// call's body holds its sensitive fields).</item>
/// <item>A request marked with <see cref="SameOriginOnly"/> (sync pages) fails instead of going to another origin,
/// without calling it.</item>
/// </list>
/// Refusals throw <see cref="OutboundRedirectRefusedException"/>, which <see cref="OutboundFailures"/> treats as
/// permanent: the same server would answer the same redirect again.
/// </summary>
public sealed class OutboundRedirectHandler(OutboundAddressPolicy policy) : DelegatingHandler
{
    /// <summary>How many redirects one call follows at most.</summary>
    public const int MaxRedirects = 5;

    /// <summary>Set on a request (<c>request.Options.Set(SameOriginOnly, true)</c>) whose redirects must stay on its origin.</summary>
    public static readonly HttpRequestOptionsKey<bool> SameOriginOnly = new("Monolith.Outbound.SameOriginOnly");

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        for (var hops = 0; ; hops++)
        {
            var response = await base.SendAsync(request, ct);
            if (!IsRedirect(response.StatusCode) || response.Headers.Location is not { } location) return response;

            var status = (int)response.StatusCode;
            response.Dispose();
            var from = request.RequestUri!;
            var to = location.IsAbsoluteUri ? location : new Uri(from, location);
            if (hops == MaxRedirects)
            {
                throw new OutboundRedirectRefusedException($"The server answered with more than {MaxRedirects} redirects (the last to {Describe(to)}).");
            }
            if (await policy.CheckAsync(to, ct) is { } refused)
            {
                throw new OutboundAddressRefusedException($"The server redirected to {Describe(to)}: {refused}");
            }
            if (from.Scheme == Uri.UriSchemeHttps && to.Scheme == Uri.UriSchemeHttp)
            {
                throw new OutboundRedirectRefusedException($"The server redirected from https to plain http ({Describe(to)}); not followed.");
            }

            var sameOrigin = SameOrigin(from, to);
            if (!sameOrigin && request.Options.TryGetValue(SameOriginOnly, out var only) && only)
            {
                throw new OutboundRedirectRefusedException(
                    $"The server redirected to another origin ({Origin(to)}); only the origin given is called.");
            }
            if (BecomesGet(status, request.Method))
            {
                request.Method = HttpMethod.Get;
                request.Content = null;
                if (request.Headers.TransferEncodingChunked == true) request.Headers.TransferEncodingChunked = false;
            }
            else if (request.Content is { } content)
            {
                if (!sameOrigin)
                {
                    throw new OutboundRedirectRefusedException(
                        $"The server redirected ({status}) the request and its body to another origin ({Origin(to)}); not followed, " +
                        "since the body would go to a host the client did not name.");
                }
                if (!IsReplayable(content))
                {
                    throw new OutboundRedirectRefusedException(
                        $"The server redirected ({status}) to {Describe(to)}; the body was streamed and cannot be sent again: give the final URL.");
                }
            }
            if (!sameOrigin) request.Headers.Clear();
            request.RequestUri = to;
        }
    }

    private static bool IsRedirect(HttpStatusCode status) => (int)status is 300 or 301 or 302 or 303 or 307 or 308;

    /// <summary>What browsers and .NET do: 300/301/302 turn a POST into a GET, 303 anything but HEAD.</summary>
    private static bool BecomesGet(int status, HttpMethod method) =>
        status is 300 or 301 or 302 ? method == HttpMethod.Post : status == 303 && method != HttpMethod.Head;

    /// <summary>Bytes held in memory (JSON, text, form data) can be sent again; a stream cannot.</summary>
    private static bool IsReplayable(HttpContent content) => content is ByteArrayContent or ReadOnlyMemoryContent;

    /// <summary>Same scheme, host and port (RFC 6454).</summary>
    public static bool SameOrigin(Uri a, Uri b) =>
        a.Scheme == b.Scheme && string.Equals(a.IdnHost, b.IdnHost, StringComparison.OrdinalIgnoreCase) && a.Port == b.Port;

    private static string Origin(Uri url) => url.GetLeftPart(UriPartial.Authority);

    /// <summary>A redirect target for a message (kept as a job's error): origin and path, never the query (it can hold a key).</summary>
    private static string Describe(Uri url) => url.IsAbsoluteUri ? url.GetLeftPart(UriPartial.Path) : "a relative URL";
}

/// <summary>A redirect the outbound client does not follow (the message says why): never retried.</summary>
public sealed class OutboundRedirectRefusedException(string message) : Exception(message);
