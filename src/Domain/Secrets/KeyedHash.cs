using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Monolith.Domain.Secrets;

/// <summary>
/// Keyed fingerprints (HMAC-SHA256, lowercase hex) of what clients send, for telling later whether a request is the
/// same as an earlier one without storing anything a guess could be checked against: a plain SHA-256 of a request
/// that holds a secret (an <c>Authorization</c> header, a social security number) lets whoever reads the database
/// confirm a guessed value offline. The key is derived from each key of <c>Secrets:Keys</c> with HKDF-SHA256 and the
/// purpose as its info, so it is never an encryption key itself and each purpose has its own.
/// <para>
/// Rotation: <see cref="Compute"/> uses the current key; <see cref="ComputeUnderEveryKey"/> gives the fingerprint
/// under every configured key, so a fingerprint stored before a new key was made current still matches while its
/// key stays listed (as the cipher text written under it needs anyway). Once that key is removed, an old
/// fingerprint matches nothing: compared requests then count as different (an idempotent replay becomes a 409,
/// never another request's answer).
/// </para>
/// </summary>
public sealed class KeyedHash
{
    private readonly byte[][] keys;

    public KeyedHash(IOptions<SecretOptions> options)
    {
        var o = options.Value;
        var currentKeyId = o.ResolveCurrentKeyId();
        // The current key first, then the others in a stable order.
        keys = o.Keys.OrderBy(k => k.Key == currentKeyId ? 0 : 1).ThenBy(k => k.Key, StringComparer.Ordinal)
            .Select(k => SecretOptions.DecodeKey(k.Key, k.Value)).ToArray();
    }

    /// <summary>The fingerprint of <paramref name="data"/> for <paramref name="purpose"/>, under the current key.</summary>
    public string Compute(ReadOnlySpan<byte> data, string purpose) => Hash(keys[0], data, purpose);

    /// <summary>The fingerprint under every configured key, the current key's first.</summary>
    public IReadOnlyList<string> ComputeUnderEveryKey(ReadOnlySpan<byte> data, string purpose)
    {
        var hashes = new string[keys.Length];
        for (var i = 0; i < keys.Length; i++) hashes[i] = Hash(keys[i], data, purpose);
        return hashes;
    }

    private static string Hash(byte[] key, ReadOnlySpan<byte> data, string purpose)
    {
        var derived = HKDF.DeriveKey(HashAlgorithmName.SHA256, key, 32, salt: [], info: Encoding.UTF8.GetBytes("monolith keyed hash: " + purpose));
        return Convert.ToHexStringLower(HMACSHA256.HashData(derived, data));
    }
}
