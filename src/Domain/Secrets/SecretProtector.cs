using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Monolith.Domain.Secrets;

/// <summary>
/// Encrypts secrets kept at rest (header values such as <c>Authorization</c>, fields a client marks sensitive)
/// with AES-256-GCM under a configured key. The key's id is written beside the cipher text
/// (<c>enc:v1:{keyId}:{base64(nonce | tag | cipher text)}</c>), so keys can be rotated: add a new key, make it
/// <see cref="SecretOptions.CurrentKeyId"/>, and values written under the old one still decrypt as long as it
/// stays listed. A purpose string (<c>transfer.headers</c>) is bound in as associated data, so a value
/// encrypted for one use cannot be replayed into another.
/// <para>
/// Why AES-GCM from the framework and not ASP.NET Core Data Protection: Data Protection needs its key ring
/// stored somewhere every node sees (the same database would put keys beside the data they protect), while a
/// key given to every node by the deployment's secret store is what operators already manage.
/// </para>
/// </summary>
public sealed class SecretProtector
{
    private const string Prefix = "enc:v1:";
    private const int NonceSize = 12, TagSize = 16;
    private readonly Dictionary<string, byte[]> keys;
    private readonly string currentKeyId;

    public SecretProtector(IOptions<SecretOptions> options)
    {
        var o = options.Value;
        keys = o.Keys.ToDictionary(k => k.Key, k => SecretOptions.DecodeKey(k.Key, k.Value), StringComparer.Ordinal);
        currentKeyId = o.ResolveCurrentKeyId();
    }

    /// <summary>The key new values are encrypted with.</summary>
    public string CurrentKeyId => currentKeyId;

    /// <summary>True for a value <see cref="Protect"/> wrote (so a reader can tell cipher text from plain text).</summary>
    public static bool IsProtected(string? value) => value?.StartsWith(Prefix, StringComparison.Ordinal) == true;

    public string Protect(string plaintext, string purpose)
    {
        var key = keys[currentKeyId];
        var plain = Encoding.UTF8.GetBytes(plaintext);
        var blob = new byte[NonceSize + TagSize + plain.Length];
        var nonce = blob.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(key, TagSize);
        aes.Encrypt(nonce, plain, blob.AsSpan(NonceSize + TagSize), blob.AsSpan(NonceSize, TagSize), Encoding.UTF8.GetBytes(purpose));
        return $"{Prefix}{currentKeyId}:{Convert.ToBase64String(blob)}";
    }

    /// <summary>
    /// Decrypts a value <see cref="Protect"/> wrote with the same purpose. Throws
    /// <see cref="SecretUnreadableException"/> when the key is no longer configured or the value was altered.
    /// </summary>
    public string Unprotect(string protectedValue, string purpose)
    {
        if (!IsProtected(protectedValue)) throw new SecretUnreadableException("The value is not an encrypted secret.");
        var rest = protectedValue.AsSpan(Prefix.Length);
        var colon = rest.IndexOf(':');
        if (colon <= 0) throw new SecretUnreadableException("The encrypted secret is malformed.");
        var keyId = rest[..colon].ToString();
        if (!keys.TryGetValue(keyId, out var key))
        {
            throw new SecretUnreadableException($"The secret was encrypted with key '{keyId}', which is no longer in Secrets:Keys.");
        }
        byte[] blob;
        try
        {
            blob = Convert.FromBase64String(rest[(colon + 1)..].ToString());
        }
        catch (FormatException)
        {
            throw new SecretUnreadableException("The encrypted secret is malformed.");
        }
        if (blob.Length < NonceSize + TagSize) throw new SecretUnreadableException("The encrypted secret is malformed.");
        var plain = new byte[blob.Length - NonceSize - TagSize];
        try
        {
            using var aes = new AesGcm(key, TagSize);
            aes.Decrypt(blob.AsSpan(0, NonceSize), blob.AsSpan(NonceSize + TagSize), blob.AsSpan(NonceSize, TagSize), plain, Encoding.UTF8.GetBytes(purpose));
        }
        catch (AuthenticationTagMismatchException)
        {
            throw new SecretUnreadableException("The encrypted secret does not verify (altered, or another purpose).");
        }
        return Encoding.UTF8.GetString(plain);
    }

    /// <summary>Encrypts every value of a header map (names stay readable; values never are).</summary>
    public Dictionary<string, string> ProtectValues(IReadOnlyDictionary<string, string>? values, string purpose) =>
        values?.ToDictionary(h => h.Key, h => Protect(h.Value, purpose)) ?? [];

    public Dictionary<string, string> UnprotectValues(IReadOnlyDictionary<string, string>? values, string purpose) =>
        values?.ToDictionary(h => h.Key, h => Unprotect(h.Value, purpose)) ?? [];
}

/// <summary>A stored secret that cannot be decrypted: its key was removed, or it was altered.</summary>
public sealed class SecretUnreadableException(string message) : Exception(message);

/// <summary>
/// <c>Secrets:Keys:{id}</c> = a base64 32-byte key (<c>openssl rand -base64 32</c>), one or more;
/// <c>Secrets:CurrentKeyId</c> = the id new values are encrypted with (optional when there is one key).
/// From the environment: <c>Secrets__Keys__k1=...</c>, <c>Secrets__CurrentKeyId=k1</c>.
/// </summary>
public sealed class SecretOptions
{
    public const string Section = "Secrets";

    public Dictionary<string, string> Keys { get; set; } = new(StringComparer.Ordinal);
    public string? CurrentKeyId { get; set; }

    /// <summary>The id new values are written under: <see cref="CurrentKeyId"/>, or the only key when there is one.</summary>
    internal string ResolveCurrentKeyId()
    {
        var id = CurrentKeyId ?? (Keys.Count == 1 ? Keys.Keys.Single() : "");
        return Keys.ContainsKey(id) ? id : throw new InvalidOperationException(Describe("Secrets:CurrentKeyId names no key in Secrets:Keys."));
    }

    internal static byte[] DecodeKey(string id, string base64)
    {
        try
        {
            var key = Convert.FromBase64String(base64);
            if (key.Length == 32) return key;
        }
        catch (FormatException)
        {
        }
        throw new InvalidOperationException(Describe($"Secrets:Keys:{id} is not a base64 32-byte key."));
    }

    internal static string Describe(string problem) =>
        problem + " Set Secrets__Keys__<id> to a base64 32-byte key (openssl rand -base64 32) and Secrets__CurrentKeyId to its id; " +
        "./run.sh sets a development key when none is given.";

    /// <summary>Start-up check: the service refuses to start without a usable key rather than store secrets in plain text.</summary>
    public sealed class Validator : IValidateOptions<SecretOptions>
    {
        public ValidateOptionsResult Validate(string? name, SecretOptions options) =>
            Check(options) is { } failure ? ValidateOptionsResult.Fail(failure) : ValidateOptionsResult.Success;
    }

    private static string? Check(SecretOptions o)
    {
        if (o.Keys.Count == 0) return Describe("No encryption key configured (Secrets:Keys is empty).");
        foreach (var (id, value) in o.Keys)
        {
            try
            {
                DecodeKey(id, value);
            }
            catch (InvalidOperationException ex)
            {
                return ex.Message;
            }
        }
        var current = o.CurrentKeyId ?? (o.Keys.Count == 1 ? o.Keys.Keys.Single() : null);
        if (current is null) return Describe("Several keys are configured: Secrets:CurrentKeyId must name the one to encrypt with.");
        return o.Keys.ContainsKey(current) ? null : Describe($"Secrets:CurrentKeyId '{current}' names no key in Secrets:Keys.");
    }
}
