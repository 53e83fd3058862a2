using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Monolith.Api.Infrastructure;

/// <summary>
/// Slows down key guessing. Each client address may fail to authenticate (an unknown or revoked <c>X-Api-Key</c>, a
/// wrong admin key on <c>/dashboard/login</c>) <see cref="AuthThrottleOptions.MaxFailures"/> times per window; after
/// that every attempt from it that carries a key is refused with 429 and <c>Retry-After</c> until the window ends, the
/// right key included (a refusal that only wrong keys got would tell a guess from a hit). Other addresses are not
/// affected. The address is the connection's, IPv6 taken by its /64 (what one host is usually given); it is the
/// client's own only where a trusted proxy's forwarded headers are applied (<see cref="ForwardedHeadersSettings"/>):
/// behind a proxy without them every client shares the proxy's address and budget. Counted per node, in memory, with
/// a partitioned fixed-window limiter of System.Threading.RateLimiting (what ASP.NET Core's rate-limiting middleware is
/// built on; the middleware itself counts requests, and here only failures count).
/// </summary>
public sealed class AuthThrottle(IOptions<AuthThrottleOptions> options) : IDisposable
{
    private readonly TimeSpan _window = TimeSpan.FromSeconds(options.Value.WindowSeconds);

    private readonly PartitionedRateLimiter<string> _failures = PartitionedRateLimiter.Create<string, string>(address =>
        RateLimitPartition.GetFixedWindowLimiter(address, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = options.Value.MaxFailures,
            Window = TimeSpan.FromSeconds(options.Value.WindowSeconds),
            QueueLimit = 0,
        }));

    /// <summary>Whether the request's address has used up its failures; if so, how long until it may try again.</summary>
    public bool IsThrottled(HttpContext http, out TimeSpan retryAfter)
    {
        using var lease = _failures.AttemptAcquire(ClientKey(http), 0); // asks without taking
        retryAfter = lease.IsAcquired ? TimeSpan.Zero
            : lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : _window;
        return !lease.IsAcquired;
    }

    /// <summary>Counts one failed authentication against the request's address.</summary>
    public void Failed(HttpContext http)
    {
        using var _ = _failures.AttemptAcquire(ClientKey(http), 1);
    }

    /// <summary>Whole seconds for a <c>Retry-After</c> header, at least 1.</summary>
    public static string RetryAfterHeader(TimeSpan retryAfter) =>
        Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);

    /// <summary>The address failures are counted under: IPv4 as is (also when mapped into IPv6), IPv6 by its /64.</summary>
    public static string ClientKey(HttpContext http)
    {
        var address = http.Connection.RemoteIpAddress;
        if (address is null) return "unknown";
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (address.AddressFamily != AddressFamily.InterNetworkV6) return address.ToString();
        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPNetwork(new IPAddress(bytes), 64).ToString();
    }

    public void Dispose() => _failures.Dispose();
}
