using System.Text.Json;
using Monolith.Domain.Jobs;
using Monolith.Domain.Secrets;

namespace Monolith.Worker.Engine;

/// <summary>
/// Where jobs meet <see cref="SecretProtector"/>: the secret parts of payloads (<see cref="ISecretPayload{TSelf}"/>,
/// per tenant) and secret results (<see cref="JobDefaults.SecretResult"/>: the whole result JSON encrypted into one
/// JSON string, bound to the job's id). The key id is part of every cipher text, so values written under an older
/// key still decrypt after a new key is made current, as long as the old key stays in <c>Secrets:Keys</c>.
/// </summary>
public sealed class JobSecrets(SecretProtector protector)
{
    public PayloadSecrets ForPayload(Guid tenantId) => new(protector, tenantId);

    /// <summary>The result's JSON, encrypted, as a JSON string value (what the jsonb column then holds).</summary>
    public string ProtectResult(Guid jobId, string resultJson) =>
        JsonSerializer.Serialize(protector.Protect(resultJson, ResultPurpose(jobId)));

    /// <summary>
    /// The result a client may see: null while there is none or once it expired; decrypted when it was stored
    /// encrypted. Throws <see cref="SecretUnreadableException"/> when its key was removed from the configuration.
    /// </summary>
    public string? RevealResult(Job job, DateTimeOffset now)
    {
        if (job.Result is null || job.IsResultExpired(now)) return null;
        if (!job.Result.StartsWith('"')) return job.Result;
        var text = JsonSerializer.Deserialize<string>(job.Result);
        return SecretProtector.IsProtected(text) ? protector.Unprotect(text!, ResultPurpose(job.Id)) : job.Result;
    }

    private static string ResultPurpose(Guid jobId) => $"job.result:{jobId}";
}
