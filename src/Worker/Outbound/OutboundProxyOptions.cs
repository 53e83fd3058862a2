using Microsoft.Extensions.Options;

namespace Monolith.Worker.Outbound;

/// <summary>
/// <c>Outbound:Proxy</c> (<c>Outbound__Proxy__*</c>): the HTTP <c>CONNECT</c> proxy every outbound call goes through
/// (<see cref="OutboundProxy"/>); none by default (direct connections). Never taken from the environment:
/// <c>HTTP_PROXY</c>, <c>HTTPS_PROXY</c> and <c>ALL_PROXY</c> are ignored. The password is a secret: no log line,
/// message or answer carries it.
/// </summary>
public sealed class OutboundProxyOptions
{
    public const string Section = "Outbound:Proxy";

    /// <summary>
    /// The proxy as <c>http://host:port</c> (port 80 when omitted); empty: no proxy. Only plain-http proxies: the
    /// tunnel carries the target's TLS end to end, so the proxy sees the target's address, never the request.
    /// </summary>
    public string? Address { get; set; }

    /// <summary>The user name sent to the proxy (<c>Proxy-Authorization: Basic</c>); none: no credentials are sent.</summary>
    public string? Username { get; set; }

    /// <summary>The proxy's password (with <see cref="Username"/>): a secret, never logged.</summary>
    public string? Password { get; set; }

    public bool IsConfigured => !string.IsNullOrWhiteSpace(Address);

    /// <summary>The proxy's address, parsed; call only when <see cref="IsConfigured"/> and validated.</summary>
    public Uri Uri => new(Address!.Trim());

    /// <summary>Checked at start: a service that would send calls to a proxy it cannot use does not start.</summary>
    public sealed class Validator : IValidateOptions<OutboundProxyOptions>
    {
        public ValidateOptionsResult Validate(string? name, OutboundProxyOptions options)
        {
            if (!options.IsConfigured)
            {
                return string.IsNullOrEmpty(options.Username) && string.IsNullOrEmpty(options.Password)
                    ? ValidateOptionsResult.Success
                    : ValidateOptionsResult.Fail("Outbound:Proxy:Username and Password are set but Outbound:Proxy:Address is not.");
            }
            // Never echo the address back: a mistyped one could hold the password.
            if (!Uri.TryCreate(options.Address!.Trim(), UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp || uri.Host.Length == 0)
            {
                return ValidateOptionsResult.Fail("Outbound:Proxy:Address must be an absolute http:// URL such as http://proxy.internal:3128.");
            }
            if (uri.UserInfo.Length > 0)
            {
                return ValidateOptionsResult.Fail("Outbound:Proxy:Address may not hold credentials: set Outbound:Proxy:Username and Outbound:Proxy:Password.");
            }
            if (uri.AbsolutePath != "/" || uri.Query.Length > 0 || uri.Fragment.Length > 0)
            {
                return ValidateOptionsResult.Fail("Outbound:Proxy:Address is a host and a port (http://proxy.internal:3128): no path or query.");
            }
            if (string.IsNullOrEmpty(options.Username) != string.IsNullOrEmpty(options.Password))
            {
                return ValidateOptionsResult.Fail("Outbound:Proxy:Username and Outbound:Proxy:Password go together: set both or neither.");
            }
            if (options.Username is { } user && (user.Contains(':') || user.Any(char.IsControl)))
            {
                return ValidateOptionsResult.Fail("Outbound:Proxy:Username may not contain ':' or control characters (Basic authentication).");
            }
            if (options.Password is { } password && password.Any(char.IsControl))
            {
                return ValidateOptionsResult.Fail("Outbound:Proxy:Password may not contain control characters.");
            }
            return ValidateOptionsResult.Success;
        }
    }
}
