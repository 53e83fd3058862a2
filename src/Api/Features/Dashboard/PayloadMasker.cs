using System.Text.Json;
using System.Text.Json.Nodes;
using Monolith.Domain.Secrets;

namespace Monolith.Api.Features.Dashboard;

/// <summary>
/// Payloads and results as the dashboard shows them: indented, with every secret replaced by <c>***</c>. A secret is
/// a value stored encrypted (<c>enc:v1:…</c>, <see cref="SecretProtector"/>) or any value of a <c>headers</c>
/// object (authorization, cookies and API keys travel there), at any depth.
/// </summary>
public static class PayloadMasker
{
    public const string Mask = "***";

    public static string Show(string? json)
    {
        if (string.IsNullOrEmpty(json)) return "";
        JsonNode? root;
        try { root = JsonNode.Parse(json); }
        catch (JsonException) { return Mask; }
        return MaskNode(root, secret: false)?.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) ?? "null";
    }

    /// <param name="secret">Under a <c>headers</c> object: every scalar value is masked.</param>
    private static JsonNode? MaskNode(JsonNode? node, bool secret) => node switch
    {
        JsonObject obj => new JsonObject(obj.Select(p => KeyValuePair.Create(p.Key,
            MaskNode(p.Value, secret || p.Key.Equals("headers", StringComparison.OrdinalIgnoreCase))))),
        JsonArray array => new JsonArray(array.Select(item => MaskNode(item, secret)).ToArray()),
        JsonValue value when secret || (value.TryGetValue<string>(out var text) && SecretProtector.IsProtected(text)) => JsonValue.Create(Mask),
        _ => node?.DeepClone(),
    };
}
