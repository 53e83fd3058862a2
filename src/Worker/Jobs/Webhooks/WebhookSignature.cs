using System.Security.Cryptography;
using System.Text;

namespace Monolith.Worker.Jobs.Webhooks;

/// <summary>
/// The <c>Monolith-Signature</c> header: <c>t=&lt;unix seconds&gt;,v1=&lt;hex HMAC-SHA256(secret, "&lt;t&gt;.&lt;body&gt;")&gt;</c>.
/// The timestamp is signed with the body, so a receiver can refuse old replays (docs/webhooks.md has a verifier).
/// </summary>
public static class WebhookSignature
{
    public const string HeaderName = "Monolith-Signature";

    public static string Header(string secret, long timestamp, string body)
    {
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{timestamp}.{body}"));
        return $"t={timestamp},v1={Convert.ToHexStringLower(mac)}";
    }

    /// <summary>A new signing secret: <c>whsec_</c> and 43 URL-safe characters (256 random bits).</summary>
    public static string NewSecret() =>
        "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
