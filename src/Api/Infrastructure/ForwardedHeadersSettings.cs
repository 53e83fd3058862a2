using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using IPNetwork = System.Net.IPNetwork;
using Microsoft.Extensions.Options;

namespace Monolith.Api.Infrastructure;

/// <summary>
/// Whether to believe a TLS-terminating proxy's <c>X-Forwarded-For</c> and <c>X-Forwarded-Proto</c>
/// (<c>ForwardedHeaders__*</c>). Off by default: then those headers are ignored, so a client can fake neither HTTPS
/// nor its address (which the throttles key by). On, ASP.NET Core's forwarded-headers middleware applies them, but
/// only on requests whose connection comes from <see cref="KnownProxies"/> or <see cref="KnownNetworks"/> (loopback
/// when neither is given), and only the last hop: the request then reads as HTTPS when the proxy says so (the
/// dashboard cookie gets <c>Secure</c>) and comes from the client the proxy saw.
/// </summary>
public sealed class ForwardedHeadersSettings
{
    public const string Section = "ForwardedHeaders";

    /// <summary>Apply forwarded headers from the known proxies (default false).</summary>
    public bool Enabled { get; set; }

    /// <summary>Addresses of the proxies to believe (<c>ForwardedHeaders__KnownProxies__0=10.0.0.5</c>).</summary>
    public List<string> KnownProxies { get; set; } = [];

    /// <summary>Networks of the proxies to believe (<c>ForwardedHeaders__KnownNetworks__0=10.0.0.0/8</c>).</summary>
    public List<string> KnownNetworks { get; set; } = [];

    /// <summary>Binds the settings and configures the framework's <see cref="ForwardedHeadersOptions"/> from them.</summary>
    public static void AddTo(IServiceCollection services)
    {
        services.AddOptions<ForwardedHeadersSettings>().BindConfiguration(Section)
            .Validate(s => s.KnownProxies.All(p => IPAddress.TryParse(p, out _)), "ForwardedHeaders:KnownProxies must be IP addresses.")
            .Validate(s => s.KnownNetworks.All(n => IPNetwork.TryParse(n, out _)), "ForwardedHeaders:KnownNetworks must be networks such as 10.0.0.0/8.")
            .ValidateOnStart();
        services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<ForwardedHeadersSettings>>((o, settings) =>
        {
            o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            var s = settings.Value;
            if (s.KnownProxies.Count + s.KnownNetworks.Count == 0) return; // the framework's default: loopback only
            o.KnownProxies.Clear();
            o.KnownIPNetworks.Clear();
            foreach (var proxy in s.KnownProxies) o.KnownProxies.Add(IPAddress.Parse(proxy));
            foreach (var network in s.KnownNetworks) o.KnownIPNetworks.Add(IPNetwork.Parse(network));
        });
    }

    /// <summary>Puts the forwarded-headers middleware first in the pipeline when <see cref="Enabled"/>.</summary>
    public static void UseIn(WebApplication app)
    {
        if (app.Services.GetRequiredService<IOptions<ForwardedHeadersSettings>>().Value.Enabled) app.UseForwardedHeaders();
    }
}
