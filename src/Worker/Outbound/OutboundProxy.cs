using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Monolith.Worker.Outbound;

/// <summary>
/// Opens the connections of the <c>outbound</c> client through the HTTP <c>CONNECT</c> proxy of
/// <see cref="OutboundProxyOptions"/>, when one is set. <see cref="OutboundHttp"/>'s connect callback resolves the
/// target and checks every address against <see cref="OutboundAddressPolicy"/> first, then asks the proxy for a
/// tunnel to the checked IP address itself (<c>CONNECT 203.0.113.7:443</c>), never to the name: the proxy resolves
/// nothing, so a DNS answer that changes between the check and the connection cannot lead anywhere the rules refuse.
/// TLS runs inside the tunnel, end to end with the target (its name is still the one the certificate is checked
/// against); plain-http targets are tunnelled too, so the proxy must allow CONNECT to their ports.
/// <para>The proxy's own address is the operator's, not a tenant's: it is not subject to the address rules (it is
/// usually private). Its answer is read as hostile bytes: a status line and headers of at most
/// <see cref="MaxAnswerBytes"/>, of which only the status code is used, and nothing past the header is read, so
/// the target's first bytes stay in the tunnel.</para>
/// <para>Failures throw <see cref="OutboundProxyException"/>: a proxy that cannot be reached, closes the connection,
/// answers garbage or cannot reach the target (5xx) is retried; refused credentials (407, or 401 as tinyproxy answers) or a target the proxy
/// refuses (403 and other 4xx) fail the job at once. No message carries the credentials.</para>
/// </summary>
public sealed partial class OutboundProxy
{
    /// <summary>Longest answer header to a CONNECT that is read; a longer one fails the call.</summary>
    public const int MaxAnswerBytes = 16 * 1024;

    private readonly OutboundProxyOptions settings;
    private readonly string? authorization;

    public OutboundProxy(IOptions<OutboundProxyOptions> options)
    {
        settings = options.Value;
        if (!string.IsNullOrEmpty(settings.Username))
        {
            var credentials = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{settings.Username}:{settings.Password}"));
            authorization = $"Proxy-Authorization: Basic {credentials}\r\n";
        }
    }

    public bool IsConfigured => settings.IsConfigured;

    /// <summary>The proxy as messages name it: host and port, never its credentials.</summary>
    private string Name => $"{settings.Uri.Host}:{settings.Uri.Port}";

    /// <summary>
    /// A tunnel to <paramref name="port"/> on the first of <paramref name="addresses"/> (already checked) the proxy
    /// can reach: the next address is tried only when the proxy answers that it could not connect (5xx).
    /// </summary>
    public async Task<Stream> OpenTunnelAsync(IReadOnlyList<IPAddress> addresses, int port, CancellationToken ct)
    {
        if (addresses.Count == 0) throw new SocketException((int)SocketError.HostNotFound);
        OutboundProxyException? unreachable = null;
        foreach (var address in addresses)
        {
            var target = new IPEndPoint(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address, port);
            var (tunnel, status) = await TryOpenAsync(target, ct);
            if (tunnel is not null) return tunnel;
            // 407 is the standard answer; some proxies (tinyproxy) answer wrong credentials with 401. To a CONNECT, both
            // can only be about the proxy's own credentials: nothing reached the target yet.
            if (status is (int)HttpStatusCode.ProxyAuthenticationRequired or (int)HttpStatusCode.Unauthorized)
            {
                throw new OutboundProxyException(authorization is null
                    ? $"The outbound proxy {Name} asks for credentials ({status}): set Outbound:Proxy:Username and Outbound:Proxy:Password."
                    : $"The outbound proxy {Name} refused the credentials ({status}): check Outbound:Proxy:Username and Outbound:Proxy:Password.",
                    retryable: false);
            }
            if (status < 500)
            {
                throw new OutboundProxyException($"The outbound proxy {Name} refused to connect to {target} (it answered {status}).", retryable: false);
            }
            unreachable = new OutboundProxyException($"The outbound proxy {Name} could not connect to {target} (it answered {status}).", retryable: true);
        }
        throw unreachable!;
    }

    /// <summary>The tunnel and 2xx, or no tunnel and the proxy's status code.</summary>
    private async Task<(Stream? Tunnel, int Status)> TryOpenAsync(IPEndPoint target, CancellationToken ct)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            try
            {
                await socket.ConnectAsync(settings.Uri.Host.Trim('[', ']'), settings.Uri.Port, ct);
            }
            catch (SocketException ex)
            {
                throw new OutboundProxyException($"The outbound proxy {Name} could not be reached: {ex.Message}.", retryable: true, ex);
            }
            var stream = new NetworkStream(socket, ownsSocket: true);
            int status;
            try
            {
                await stream.WriteAsync(Encoding.ASCII.GetBytes($"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n{authorization}\r\n"), ct);
                status = await ReadStatusAsync(stream, ct);
            }
            catch (IOException ex)
            {
                throw new OutboundProxyException($"The outbound proxy {Name} dropped the connection while asked for a tunnel: {ex.Message}", retryable: true, ex);
            }
            if (status is >= 200 and < 300) return (stream, status);
            await stream.DisposeAsync();
            return (null, status);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Reads the proxy's answer up to the blank line that ends its header, one byte at a time (a 2xx answer is followed
    /// by the target's bytes, which belong to the caller), and returns its status code.
    /// </summary>
    private async Task<int> ReadStatusAsync(Stream stream, CancellationToken ct)
    {
        var answer = new byte[MaxAnswerBytes];
        var length = 0;
        while (length < 4 || !answer.AsSpan(length - 4, 4).SequenceEqual("\r\n\r\n"u8))
        {
            if (length == answer.Length)
            {
                throw new OutboundProxyException($"The outbound proxy {Name} answered the CONNECT with a header longer than {MaxAnswerBytes} bytes.", retryable: true);
            }
            if (await stream.ReadAsync(answer.AsMemory(length, 1), ct) == 0)
            {
                throw new OutboundProxyException($"The outbound proxy {Name} closed the connection without answering the CONNECT.", retryable: true);
            }
            length++;
        }
        var statusLine = StatusLine().Match(Encoding.ASCII.GetString(answer, 0, Math.Min(length, 16)));
        if (!statusLine.Success)
        {
            throw new OutboundProxyException($"The outbound proxy {Name} answered the CONNECT with something other than HTTP/1.x.", retryable: true);
        }
        return int.Parse(statusLine.Groups[1].ValueSpan);
    }

    [GeneratedRegex(@"\AHTTP/1\.[01] ([1-5][0-9]{2})[ \r]")]
    private static partial Regex StatusLine();
}

/// <summary>
/// The outbound proxy could not give a tunnel; the message says why (never with the credentials).
/// <see cref="OutboundFailures"/> retries it when <see cref="Retryable"/>, else fails the job at once.
/// </summary>
public sealed class OutboundProxyException(string message, bool retryable, Exception? inner = null) : Exception(message, inner)
{
    public bool Retryable { get; } = retryable;
}
