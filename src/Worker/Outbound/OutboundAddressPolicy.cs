using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace Monolith.Worker.Outbound;

/// <summary>
/// Which addresses the service may call on a client's behalf (URL sources, HTTP destinations, vendor calls,
/// webhooks). Public addresses only: loopback, private, link-local (cloud metadata at 169.254.169.254),
/// carrier-grade NAT, multicast, documentation and reserved ranges are refused, and so are IPv6 forms that carry an
/// IPv4 address the stack or a gateway may turn into an IPv4 connection (IPv4-mapped and 6to4 are judged by the
/// IPv4 address inside, ISATAP likewise; IPv4-compatible <c>::a.b.c.d</c>, SIIT <c>::ffff:0:a.b.c.d</c>, NAT64
/// <c>64:ff9b::/96</c> and Teredo <c>2001::/32</c> are refused whatever they carry), unless the host name, the
/// address or a network holding it is in <c>Transfers:AllowedHosts</c>. The check is made on the addresses a
/// name resolves to, at the moment of connecting (<see cref="OutboundHttp"/>), so a name that resolves to a
/// private address, a DNS answer that changes after validation, or a redirect to an internal host are all
/// refused. The API runs <see cref="CheckAsync"/> too, to answer a bad URL with a 400 instead of a failed job.
/// </summary>
public sealed class OutboundAddressPolicy
{
    private static readonly IPNetwork[] NonPublic =
    [
        .. new[]
        {
            "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24",
            "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
            // ::/96 holds ::, ::1 and the deprecated IPv4-compatible ::a.b.c.d; ::ffff:0:0:0/96 is SIIT's ::ffff:0:a.b.c.d.
            "::/96", "::ffff:0:0:0/96", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64",
            "2001::/32", "2001:2::/48", "2001:10::/28", // Teredo, benchmarking, ORCHID
            "2001:db8::/32", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
        }.Select(IPNetwork.Parse),
    ];

    private readonly HashSet<string> allowedHosts = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<IPNetwork> allowedNetworks = [];

    public OutboundAddressPolicy(IOptions<OutboundOptions> options)
    {
        foreach (var entry in options.Value.AllowedHosts.Where(e => !string.IsNullOrWhiteSpace(e)).Select(e => e.Trim()))
        {
            if (IPNetwork.TryParse(entry, out var network)) allowedNetworks.Add(network);
            else if (IPAddress.TryParse(entry.Trim('[', ']'), out var address)) allowedNetworks.Add(new IPNetwork(address, address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128));
            else allowedHosts.Add(entry.TrimEnd('.'));
        }
    }

    /// <summary>True for an address anyone on the internet could reach (see the class summary for what is not).</summary>
    public static bool IsPublic(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (NonPublic.Any(n => n.Contains(address))) return false;
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var bytes = address.GetAddressBytes();
            // 6to4 (2002::/16) carries an IPv4 address in its next 32 bits: judge that one.
            if (bytes[0] == 0x20 && bytes[1] == 0x02) return IsPublic(new IPAddress(bytes.AsSpan(2, 4)));
            // ISATAP: an interface id of [02]00:5efe:a.b.c.d under any prefix tunnels to that IPv4 address.
            if (bytes[8] is 0x00 or 0x02 && bytes[9] == 0x00 && bytes[10] == 0x5e && bytes[11] == 0xfe) return IsPublic(new IPAddress(bytes.AsSpan(12, 4)));
        }
        return true;
    }

    public bool IsAllowed(IPAddress address) =>
        IsPublic(address) || allowedNetworks.Any(n => n.Contains(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address));

    /// <summary>
    /// Why <paramref name="url"/> may not be called (a sentence for a problem body or a job's error), or null when
    /// it may. Only http and https; no user name or password in the URL; the host allow-listed or resolving to
    /// allowed addresses only. A name that does not resolve now is not refused here (DNS may be briefly down):
    /// the call itself checks again.
    /// </summary>
    public async Task<string?> CheckAsync(Uri url, CancellationToken ct)
    {
        if (!url.IsAbsoluteUri || url.Scheme is not ("http" or "https")) return "Only absolute http:// and https:// URLs are allowed.";
        if (url.UserInfo.Length > 0) return "Credentials in the URL are not allowed; send them in a header (headers are encrypted at rest).";
        try
        {
            await ResolveAsync(url.IdnHost, ct);
            return null;
        }
        catch (OutboundAddressRefusedException ex)
        {
            return ex.Message;
        }
        catch (SocketException)
        {
            return null;
        }
    }

    /// <summary>
    /// The addresses to connect to for <paramref name="host"/>: all of them when the host is allow-listed, else
    /// every one must be allowed (one private answer among public ones refuses the lot: DNS rebinding).
    /// </summary>
    public async Task<IPAddress[]> ResolveAsync(string host, CancellationToken ct)
    {
        host = host.Trim('[', ']').TrimEnd('.');
        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, ct);
        if (allowedHosts.Contains(host)) return addresses;
        if (addresses.Length == 0) throw new SocketException((int)SocketError.HostNotFound);
        if (addresses.FirstOrDefault(a => !IsAllowed(a)) is { } refused)
        {
            throw new OutboundAddressRefusedException(
                $"'{host}' is {(literal is null ? $"resolved to {refused}, " : "")}a loopback, private, link-local or reserved address, " +
                "which the service does not call (Transfers:AllowedHosts lists exceptions).");
        }
        return addresses;
    }
}

/// <summary>The address a call would go to is not allowed: never retried, the job fails with this message.</summary>
public sealed class OutboundAddressRefusedException(string message) : Exception(message);

/// <summary><c>Transfers:AllowedHosts</c>: host names, addresses or networks (<c>10.1.0.0/16</c>) exempt from the address rules.</summary>
public sealed class OutboundOptions
{
    public const string Section = "Transfers";

    public List<string> AllowedHosts { get; set; } = [];
}
