using Monolith.Domain.Secrets;
using Monolith.Domain.Transfers;
using Monolith.Worker.Engine;

namespace Monolith.Worker.Jobs.Transfers;

/// <summary>
/// Headers a client gives for a source or destination, and the form values of an HTTP destination: encrypted at rest,
/// decrypted only here, just before the call, and never logged.
/// </summary>
public static class TransferHeaders
{
    /// <summary>Headers the service sets itself (or the HTTP stack does): a client may not give them.</summary>
    public static readonly HashSet<string> Reserved = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "Content-Length", "Transfer-Encoding", "Connection", "Keep-Alive", "Upgrade", "TE", "Trailer", "Expect",
        "Proxy-Authorization", "Proxy-Connection", "Idempotency-Key", "Content-Digest", "Repr-Digest", "Digest",
    };

    public static Dictionary<string, string> Decrypt(SecretProtector secrets, Dictionary<string, string>? stored, string where)
    {
        try
        {
            return secrets.UnprotectValues(stored, Transfer.HeaderPurpose);
        }
        catch (SecretUnreadableException ex)
        {
            throw new PermanentJobException($"The {where}'s headers cannot be decrypted: {ex.Message}");
        }
    }

    /// <summary>
    /// An HTTP destination's form values, decrypted. A value stored before form values were encrypted (plain text) is
    /// used as it is.
    /// </summary>
    public static Dictionary<string, string> DecryptForm(SecretProtector secrets, Dictionary<string, string>? stored)
    {
        try
        {
            return stored?.ToDictionary(f => f.Key, f => SecretProtector.IsProtected(f.Value) ? secrets.Unprotect(f.Value, Transfer.FormPurpose) : f.Value) ?? [];
        }
        catch (SecretUnreadableException ex)
        {
            throw new PermanentJobException($"The destination's form values cannot be decrypted: {ex.Message}");
        }
    }

    /// <summary>Sets each header on the request, or on its content when it is a content header (Content-Type).</summary>
    public static void Apply(HttpRequestMessage request, HttpContent? content, IReadOnlyDictionary<string, string> headers)
    {
        foreach (var (name, value) in headers)
        {
            if (request.Headers.TryAddWithoutValidation(name, value)) continue;
            if (content is null) continue;
            content.Headers.Remove(name);
            content.Headers.TryAddWithoutValidation(name, value);
        }
    }
}
