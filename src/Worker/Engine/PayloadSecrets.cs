using System.Text.Json.Nodes;
using Monolith.Domain.Secrets;

namespace Monolith.Worker.Engine;

/// <summary>
/// Encrypts and decrypts the secret parts of one tenant's payloads (<see cref="ISecretPayload{TSelf}"/>) with
/// <see cref="SecretProtector"/>; the tenant id is bound in as the purpose, so cipher text copied into another
/// tenant's job does not decrypt. Whole JSON values can be protected: the value's JSON text is encrypted into a
/// string and parsed back on the way out, so a number or an object comes back as it was sent.
/// </summary>
public sealed class PayloadSecrets(SecretProtector protector, Guid tenantId)
{
    private readonly string _purpose = $"job.payload:{tenantId}";

    public string Protect(string value) => protector.Protect(value, _purpose);

    public string Unprotect(string value) => protector.Unprotect(value, _purpose);

    public Dictionary<string, string> ProtectValues(IReadOnlyDictionary<string, string>? values) => protector.ProtectValues(values, _purpose);

    public Dictionary<string, string> UnprotectValues(IReadOnlyDictionary<string, string>? values) => protector.UnprotectValues(values, _purpose);

    /// <summary>A JSON value (of any kind) as one encrypted string value.</summary>
    public JsonNode ProtectValue(JsonNode? value) => JsonValue.Create(Protect(value?.ToJsonString() ?? "null"));

    /// <summary>The JSON value <see cref="ProtectValue"/> encrypted.</summary>
    public JsonNode? UnprotectValue(JsonNode? value) =>
        JsonNode.Parse(Unprotect(value?.GetValueKind() == System.Text.Json.JsonValueKind.String ? value.GetValue<string>()
            : throw new SecretUnreadableException("An encrypted payload value is not a string.")));
}
