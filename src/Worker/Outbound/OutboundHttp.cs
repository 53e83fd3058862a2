using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Monolith.Worker.Outbound;

/// <summary>
/// The one HttpClient for calls made on a client's behalf: <c>IHttpClientFactory.CreateClient(OutboundHttp.ClientName)</c>.
/// Every connection it opens (the first request and each redirect) goes through
/// <see cref="OutboundAddressPolicy.ResolveAsync"/>, so only allowed addresses are ever connected to. Redirects are
/// followed by <see cref="OutboundRedirectHandler"/> (the tenant's headers never go to another origin), not by the
/// socket handler. With <c>Outbound:Proxy</c> set, every connection is a tunnel through that proxy to the checked
/// address (<see cref="OutboundProxy"/>); without it, a direct connection. Never a proxy from the environment
/// (<c>HTTP_PROXY</c> and the like: the handler's own proxy support is off, as it would connect to the proxy and
/// leave the target unchecked), no cookie jar (the handler is shared by every tenant: a cookie one vendor set for one
/// tenant would go with the next tenant's call), no request logging (URLs and headers can carry secrets), no overall
/// timeout (jobs pass their own cancellation token and per-call limits). docs/outbound.md describes it all.
/// </summary>
public static class OutboundHttp
{
    public const string ClientName = "outbound";

    public static IServiceCollection AddOutboundHttp(this IServiceCollection services)
    {
        services.AddOptions<OutboundOptions>().BindConfiguration(OutboundOptions.Section);
        services.AddOptions<OutboundProxyOptions>().BindConfiguration(OutboundProxyOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<OutboundProxyOptions>, OutboundProxyOptions.Validator>();
        services.AddSingleton<OutboundAddressPolicy>();
        services.AddSingleton<OutboundProxy>();
        services.AddHttpClient(ClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .RemoveAllLoggers()
            .AddHttpMessageHandler(sp => new OutboundRedirectHandler(sp.GetRequiredService<OutboundAddressPolicy>()))
            .ConfigurePrimaryHttpMessageHandler(sp =>
            {
                var policy = sp.GetRequiredService<OutboundAddressPolicy>();
                var proxy = sp.GetRequiredService<OutboundProxy>();
                return new SocketsHttpHandler
                {
                    UseProxy = false, // never HTTP_PROXY and the like; Outbound:Proxy is used by the callback below
                    UseCookies = false,
                    AllowAutoRedirect = false, // OutboundRedirectHandler follows them
                    ConnectTimeout = TimeSpan.FromSeconds(15), // through a proxy: until the tunnel is open
                    PooledConnectionLifetime = TimeSpan.FromMinutes(2), // names are resolved (and checked) again
                    ConnectCallback = async (context, ct) =>
                    {
                        var addresses = await policy.ResolveAsync(context.DnsEndPoint.Host, ct);
                        if (proxy.IsConfigured) return await proxy.OpenTunnelAsync(addresses, context.DnsEndPoint.Port, ct);
                        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                        try
                        {
                            await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, ct);
                            return new NetworkStream(socket, ownsSocket: true);
                        }
                        catch
                        {
                            socket.Dispose();
                            throw;
                        }
                    },
                };
            });
        return services;
    }

    /// <summary>
    /// True when a call failed because its address, or a redirect, was refused (anywhere in the exception's chain):
    /// <see cref="OutboundAddressRefusedException"/> or <see cref="OutboundRedirectRefusedException"/>.
    /// </summary>
    public static bool IsRefusedAddress(Exception? ex, out Exception? refused)
    {
        for (; ex is not null; ex = ex.InnerException)
        {
            if (ex is OutboundAddressRefusedException or OutboundRedirectRefusedException)
            {
                refused = ex;
                return true;
            }
        }
        refused = null;
        return false;
    }
}
