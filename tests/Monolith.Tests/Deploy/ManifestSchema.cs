using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using System.Text.RegularExpressions;
using k8s;
using k8s.Models;
using NJsonSchema;
using YamlDotNet.RepresentationModel;

namespace Monolith.Tests.Deploy;

/// <summary>
/// Checks Kubernetes manifests offline, as the API server's strict field validation would (kubectl's default):
/// built-in kinds against the typed models of the <c>KubernetesClient</c> package (generated from the Kubernetes
/// OpenAPI specification): every field must exist on its type, at any depth, with a value of the right JSON type;
/// custom kinds (KEDA's ScaledObject and TriggerAuthentication) against our own JSON Schema in <c>schemas/</c>,
/// written from the KEDA documentation (see its README), and their metadata as ObjectMeta. Not checked: rules
/// between fields (e.g. min ≤ max replicas) and the built-in kinds' required fields (the models do not carry
/// them), which the tests assert where it matters.
/// </summary>
public sealed class ManifestSchema
{
    private static readonly JsonSerializerOptions Strict = CreateStrictOptions();

    /// <summary>"group/version/Kind" (core kinds: "v1/Kind") of every kind the KubernetesClient models know.</summary>
    private static readonly Dictionary<string, Type> BuiltInKinds = typeof(KubernetesEntityAttribute).Assembly.GetTypes()
        .Select(type => (type, entity: type.GetCustomAttribute<KubernetesEntityAttribute>()))
        .Where(x => x.entity is not null)
        .ToDictionary(x => Key(x.entity!.Group, x.entity.ApiVersion, x.entity.Kind), x => x.type);

    private readonly Dictionary<string, JsonSchema> customKinds = new();

    /// <summary>
    /// The built-in kinds, plus the custom kinds described in the <c>*.schema.json</c> files of
    /// <paramref name="schemaFolder"/>: each definition whose <c>apiVersion</c> and <c>kind</c> properties allow one
    /// value each is the schema of that kind.
    /// </summary>
    public static ManifestSchema Load(string schemaFolder)
    {
        var schema = new ManifestSchema();
        foreach (var file in Directory.GetFiles(schemaFolder, "*.schema.json").Order(StringComparer.Ordinal))
        {
            var document = JsonSchema.FromFileAsync(file).GetAwaiter().GetResult();
            foreach (var definition in document.Definitions.Values)
            {
                if (SingleValue(definition, "apiVersion") is { } apiVersion && SingleValue(definition, "kind") is { } kind)
                {
                    schema.customKinds.Add($"{apiVersion}/{kind}", definition);
                }
            }
        }
        return schema;
    }

    public IReadOnlyCollection<string> CustomKinds => customKinds.Keys;

    /// <summary>What is wrong with one manifest document; empty when it is valid.</summary>
    public IReadOnlyList<string> Validate(JsonObject document)
    {
        if (document["apiVersion"] is not JsonValue apiVersion || document["kind"] is not JsonValue kind)
        {
            return ["apiVersion and kind are required"];
        }
        var errors = new List<string>();
        if (document["metadata"]?["name"] is not JsonValue name || string.IsNullOrWhiteSpace((string?)name))
        {
            errors.Add("metadata.name is required");
        }

        var key = $"{(string?)apiVersion}/{(string?)kind}";
        if (BuiltInKinds.TryGetValue(key, out var type))
        {
            errors.AddRange(Deserialize(document, type));
        }
        else if (customKinds.TryGetValue(key, out var schema))
        {
            // The API server checks any custom resource's metadata as ObjectMeta.
            if (document["metadata"] is JsonNode metadata) errors.AddRange(Deserialize(metadata, typeof(V1ObjectMeta)));
            errors.AddRange(schema.Validate(document.ToJsonString()).Select(e => e.ToString()));
        }
        else
        {
            errors.Add($"unknown kind {key}: neither a Kubernetes API kind nor a kind described in schemas/");
        }
        return errors;
    }

    /// <summary>The document as its typed Kubernetes model (deserialized strictly).</summary>
    public static T As<T>(JsonNode document) => document.Deserialize<T>(Strict)
        ?? throw new InvalidOperationException($"Empty {typeof(T).Name}.");

    private static IEnumerable<string> Deserialize(JsonNode node, Type type)
    {
        try
        {
            node.Deserialize(type, Strict);
            return [];
        }
        catch (Exception e) when (e is JsonException or FormatException or NotSupportedException or InvalidOperationException or OverflowException)
        {
            return [$"{type.Name}: {e.Message}"];
        }
    }

    private static JsonSerializerOptions CreateStrictOptions()
    {
        var options = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow, // a misspelled or unknown field fails
            TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
        };
        options.Converters.Add(new JsonStringEnumConverter());
        options.Converters.Add(new KubernetesJson.KubernetesDateTimeConverter());
        options.Converters.Add(new KubernetesJson.KubernetesDateTimeOffsetConverter());
        options.MakeReadOnly();
        return options;
    }

    private static string Key(string? group, string version, string kind) =>
        $"{(string.IsNullOrEmpty(group) ? "" : group + "/")}{version}/{kind}";

    /// <summary>The one value a definition's property allows (<c>enum</c> of one string), or null.</summary>
    private static string? SingleValue(JsonSchema definition, string property) =>
        definition.ActualProperties.TryGetValue(property, out var schema)
        && schema.ActualSchema.Enumeration is { Count: 1 } values && values.Single() is string value
            ? value
            : null;
}

/// <summary>
/// YAML to JSON the way Kubernetes reads manifests (sigs.k8s.io/yaml, YAML 1.1 scalars): a plain scalar that
/// looks like a number, a boolean (including yes/no/on/off) or null is one; a quoted one is a string.
/// Duplicate keys are an error, as with kubectl.
/// </summary>
public static partial class YamlDocuments
{
    public static List<JsonObject> Load(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return stream.Documents
            .Where(d => d.RootNode is not YamlScalarNode { Value: null or "" })
            .Select(d => Convert(d.RootNode) as JsonObject
                ?? throw new FormatException("A manifest document must be a mapping."))
            .ToList();
    }

    private static JsonNode? Convert(YamlNode node) => node switch
    {
        YamlMappingNode mapping => ToObject(mapping),
        YamlSequenceNode sequence => new JsonArray(sequence.Children.Select(Convert).ToArray()),
        YamlScalarNode scalar => Scalar(scalar),
        _ => throw new FormatException($"Unsupported YAML node at {node.Start}."),
    };

    private static JsonObject ToObject(YamlMappingNode mapping)
    {
        var result = new JsonObject();
        foreach (var (key, value) in mapping.Children)
        {
            var name = key is YamlScalarNode { Value: { } text } ? text
                : throw new FormatException($"A mapping key must be a scalar, at {key.Start}.");
            if (result.ContainsKey(name)) throw new FormatException($"Duplicate key '{name}' at {key.Start}.");
            result[name] = Convert(value);
        }
        return result;
    }

    private static JsonNode? Scalar(YamlScalarNode scalar)
    {
        var text = scalar.Value ?? "";
        var tag = scalar.Tag;
        if (scalar.Style != YamlDotNet.Core.ScalarStyle.Plain || (!tag.IsEmpty && !tag.IsNonSpecific && tag.Value == "tag:yaml.org,2002:str"))
        {
            return JsonValue.Create(text);
        }
        if (text is "" or "~" or "null" or "Null" or "NULL") return null;
        if (text is "true" or "True" or "TRUE" or "yes" or "Yes" or "YES" or "y" or "Y" or "on" or "On" or "ON") return Json("true");
        if (text is "false" or "False" or "FALSE" or "no" or "No" or "NO" or "n" or "N" or "off" or "Off" or "OFF") return Json("false");
        if (DecimalInteger().IsMatch(text) && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
        {
            return Json(integer.ToString(CultureInfo.InvariantCulture));
        }
        if (text.StartsWith("0x", StringComparison.Ordinal) && long.TryParse(text[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var hex))
        {
            return Json(hex.ToString(CultureInfo.InvariantCulture));
        }
        if (OctalInteger().IsMatch(text)) return Json(System.Convert.ToInt64(text, 8).ToString(CultureInfo.InvariantCulture));
        if (Float().IsMatch(text)) return Json(double.Parse(text, CultureInfo.InvariantCulture).ToString("R", CultureInfo.InvariantCulture));
        return JsonValue.Create(text);
    }

    /// <summary>A JSON literal, so that numbers read back as any numeric type (int, long, decimal).</summary>
    private static JsonNode Json(string literal) => JsonNode.Parse(literal)!;

    [GeneratedRegex("^[-+]?(0|[1-9][0-9]*)$")]
    private static partial Regex DecimalInteger();

    [GeneratedRegex("^0[0-7]+$")]
    private static partial Regex OctalInteger();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex Float();
}
