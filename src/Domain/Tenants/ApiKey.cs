using System.Security.Cryptography;
using System.Text;

namespace Monolith.Domain.Tenants;

/// <summary>A tenant's API key. Only its SHA-256 is stored: the key itself is shown once, when it is created.</summary>
public sealed class ApiKey
{
    public Guid Id { get; set; }
    public Guid TenantId { get; set; }
    public string Name { get; set; } = "";

    /// <summary>Lower-case hex SHA-256 of the key (keys are 256 random bits, so a plain hash is enough).</summary>
    public string KeyHash { get; set; } = "";

    /// <summary>The first characters of the key, to recognise it in listings.</summary>
    public string Prefix { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }

    public static string Hash(string key) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>A new random key: <c>mk_</c> and 43 URL-safe characters.</summary>
    public static string NewKey() =>
        "mk_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
