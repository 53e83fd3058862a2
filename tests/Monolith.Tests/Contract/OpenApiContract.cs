using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using NJsonSchema;
using NJsonSchema.Validation;

namespace Monolith.Tests.Contract;

/// <summary>
/// The service's own OpenAPI document (as served at <c>/swagger/v1/swagger.json</c>) and what an answer must be to
/// keep it: a documented status for the operation, a documented media type, and a JSON body that validates against
/// the schema documented for that status. Schemas are OpenAPI 3.0 schemas; they are turned into JSON Schema
/// (components become definitions, <c>nullable</c> becomes a <c>null</c> type) and checked with NJsonSchema.
/// </summary>
public sealed class OpenApiContract
{
    /// <summary>Parsed schemas by document and key, shared by every factory of the test run (most serve the same document).</summary>
    private static readonly ConcurrentDictionary<string, Lazy<Task<JsonSchema>>> Schemas = new();

    private readonly JsonObject _definitions;
    private readonly string _documentHash;

    private OpenApiContract(JsonObject document, string text)
    {
        Document = document;
        _documentHash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)));
        _definitions = new JsonObject();
        foreach (var (name, schema) in document["components"]?["schemas"]?.AsObject() ?? [])
        {
            _definitions[name] = ToJsonSchema(schema);
        }
        Operations = document["paths"]!.AsObject()
            .SelectMany(path => path.Value!.AsObject()
                .Where(op => op.Key is "get" or "put" or "post" or "delete" or "patch" or "head" or "options")
                .Select(op => new OpenApiOperation(op.Key.ToUpperInvariant(), path.Key, op.Value!.AsObject())))
            .ToList();
    }

    public JsonObject Document { get; }

    public IReadOnlyList<OpenApiOperation> Operations { get; }

    public static OpenApiContract Parse(string json) => new(JsonNode.Parse(json)!.AsObject(), json);

    /// <summary>
    /// The operation a request is for: the method and every literal segment match, and each path parameter's value
    /// fits its schema (a uuid where one is documented). The most literal template wins (<c>/v1/names/top</c> over
    /// <c>/v1/names/{name}</c>). Null when no operation fits (a path outside the API, or an id that is no uuid).
    /// </summary>
    public OpenApiOperation? Find(string method, string path)
    {
        var segments = path.TrimEnd('/').Split('/').Select(Uri.UnescapeDataString).ToArray();
        return Operations
            .Where(o => o.Method == method && o.Matches(segments))
            .OrderByDescending(o => o.LiteralSegments)
            .FirstOrDefault();
    }

    /// <summary>
    /// Every way <paramref name="response"/> breaks the contract of <paramref name="operation"/>: an undocumented status,
    /// an undocumented media type, a body where none is documented or none where one is, a JSON body that does not
    /// validate. Reads (and buffers) the body only when it is JSON.
    /// </summary>
    public async Task<IReadOnlyList<string>> CheckAsync(OpenApiOperation operation, HttpMethod method, HttpResponseMessage response)
    {
        var status = ((int)response.StatusCode).ToString();
        var documented = operation.Response(status);
        if (documented is null)
        {
            var body = await SampleAsync(response);
            return [$"{status} is not a documented answer (documented: {string.Join(", ", operation.Statuses)}); body: {body}"];
        }

        var content = documented["content"]?.AsObject();
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        bool hasBody;
        if (response.Content.Headers.ContentLength is { } length) hasBody = length > 0;
        else if ((int)response.StatusCode >= 300 && mediaType != "text/event-stream")
        {
            // An answer that is not a success is small: read it to know whether it has a body (a 412 or 416 keeps the
            // document's media type and sends nothing).
            await response.Content.LoadIntoBufferAsync();
            hasBody = (await response.Content.ReadAsByteArrayAsync()).Length > 0;
        }
        else hasBody = mediaType is not null;
        if (!hasBody)
        {
            return content is { Count: > 0 } && method != HttpMethod.Head && response.StatusCode is not (HttpStatusCode.NoContent or HttpStatusCode.NotModified)
                ? [$"{status} is documented with a body ({string.Join(", ", content.Select(c => c.Key))}) but none was sent"]
                : [];
        }
        if (content is not { Count: > 0 }) return [$"{status} is documented without a body, but a {mediaType} body was sent"];
        var match = content.FirstOrDefault(c => MediaTypeMatches(c.Key, mediaType ?? "application/octet-stream"));
        if (match.Key is null)
        {
            return [$"{status} answered {mediaType}, documented: {string.Join(", ", content.Select(c => c.Key))}"];
        }
        if (!IsJson(mediaType) || match.Value?["schema"] is not { } schemaNode) return [];

        await response.Content.LoadIntoBufferAsync();
        var text = await response.Content.ReadAsStringAsync();
        var schema = await SchemaAsync($"{operation.Method} {operation.Template} {status} {match.Key}", schemaNode);
        var errors = schema.Validate(text);
        return errors.Count == 0 ? [] : [$"{status} {mediaType} body does not match its schema: {Describe(errors)}; body: {Sample(text)}"];
    }

    /// <summary>A schema of the document (a response's, a request body's) as a JSON Schema with every component beside it.</summary>
    public Task<JsonSchema> SchemaAsync(string key, JsonNode openApiSchema) =>
        Schemas.GetOrAdd($"{_documentHash} {key}", _ => new Lazy<Task<JsonSchema>>(() =>
        {
            // Wrapped, so that a root that is a bare $ref (whose siblings a reader ignores) still carries the definitions.
            var root = new JsonObject { ["allOf"] = new JsonArray(ToJsonSchema(openApiSchema)), ["definitions"] = _definitions.DeepClone() };
            return JsonSchema.FromJsonAsync(root.ToJsonString());
        })).Value;

    public static bool IsJson(string? mediaType) =>
        mediaType is not null && (mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
                                  || mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase));

    private static bool MediaTypeMatches(string documented, string actual)
    {
        if (documented == "*/*" || documented.Equals(actual, StringComparison.OrdinalIgnoreCase)) return true;
        return documented.EndsWith("/*", StringComparison.Ordinal)
               && actual.StartsWith(documented[..^1], StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// An OpenAPI 3.0 schema as JSON Schema: <c>#/components/schemas/X</c> becomes <c>#/definitions/X</c>,
    /// <c>nullable: true</c> lets <c>null</c> through, and keywords that only annotate are left out.
    /// </summary>
    private static JsonNode? ToJsonSchema(JsonNode? node)
    {
        switch (node)
        {
            case JsonArray array:
                return new JsonArray(array.Select(ToJsonSchema).ToArray());
            case JsonObject obj:
                var copy = new JsonObject();
                var nullable = false;
                foreach (var (key, value) in obj)
                {
                    if (key is "discriminator" or "example" or "examples" or "xml" or "externalDocs" or "deprecated" or "readOnly" or "writeOnly"
                        || key.StartsWith("x-", StringComparison.Ordinal))
                    {
                        continue;
                    }
                    if (key == "nullable")
                    {
                        nullable = value?.GetValue<bool>() == true;
                        continue;
                    }
                    if (key == "$ref" && value?.GetValue<string>() is { } reference)
                    {
                        copy[key] = reference.Replace("#/components/schemas/", "#/definitions/", StringComparison.Ordinal);
                        continue;
                    }
                    // Maps of names to schemas: their keys are names, not keywords.
                    copy[key] = key is "properties" or "definitions" && value is JsonObject map
                        ? new JsonObject(map.Select(p => KeyValuePair.Create(p.Key, ToJsonSchema(p.Value))))
                        : ToJsonSchema(value);
                }
                return nullable ? AllowNull(copy) : copy;
            default:
                return node?.DeepClone();
        }
    }

    private static JsonObject AllowNull(JsonObject schema)
    {
        // A composition (allOf of a reference, as a nullable reference is written) would still refuse null: wrap it.
        if (schema.ContainsKey("$ref") || schema.ContainsKey("allOf") || schema.ContainsKey("oneOf") || schema.ContainsKey("anyOf"))
        {
            var description = schema["description"]?.DeepClone();
            schema.Remove("description");
            var wrapped = new JsonObject { ["anyOf"] = new JsonArray(schema, new JsonObject { ["type"] = "null" }) };
            if (description is not null) wrapped["description"] = description;
            return wrapped;
        }
        if (schema["enum"] is JsonArray values && !values.Any(v => v is null)) values.Add(null);
        if (schema["type"] is JsonValue type) schema["type"] = new JsonArray(type.GetValue<string>(), "null");
        return schema;
    }

    private static string Describe(ICollection<ValidationError> errors) =>
        string.Join("; ", errors.Take(5).Select(Describe)) + (errors.Count > 5 ? $"; … {errors.Count - 5} more" : "");

    private static string Describe(ValidationError error) => error is ChildSchemaValidationError child
        ? $"{error.Kind} at {error.Path} ({string.Join(" | ", child.Errors.Select(e => string.Join(", ", e.Value.Take(3).Select(Describe))))})"
        : $"{error.Kind} at {error.Path}";

    private static async Task<string> SampleAsync(HttpResponseMessage response)
    {
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        if (!IsJson(mediaType) && mediaType is not "text/plain") return mediaType ?? "(none)";
        await response.Content.LoadIntoBufferAsync();
        return Sample(await response.Content.ReadAsStringAsync());
    }

    private static string Sample(string text) => text.Length <= 400 ? text : text[..400] + "…";
}

/// <summary>One operation of the document: its method, path template and OpenAPI object.</summary>
public sealed class OpenApiOperation(string method, string template, JsonObject node)
{
    private readonly string[] _segments = template.TrimEnd('/').Split('/');

    public string Method { get; } = method;
    public string Template { get; } = template;
    public JsonObject Node { get; } = node;

    public string OperationId => Node["operationId"]?.GetValue<string>() ?? $"{Method} {Template}";

    public int LiteralSegments => _segments.Count(s => !s.StartsWith('{'));

    public IEnumerable<string> Statuses => Node["responses"]!.AsObject().Select(r => r.Key);

    public IEnumerable<JsonObject> Parameters => Node["parameters"]?.AsArray().Select(p => p!.AsObject()) ?? [];

    public JsonObject? RequestBody => Node["requestBody"]?.AsObject();

    /// <summary>The documented response for a status: exact, else its class (<c>4XX</c>), else <c>default</c>.</summary>
    public JsonObject? Response(string status)
    {
        var responses = Node["responses"]!.AsObject();
        return (responses[status] ?? responses[status[0] + "XX"] ?? responses["default"])?.AsObject();
    }

    public bool Matches(string[] segments)
    {
        if (segments.Length != _segments.Length) return false;
        for (var i = 0; i < segments.Length; i++)
        {
            var part = _segments[i];
            if (!part.StartsWith('{'))
            {
                if (!string.Equals(part, segments[i], StringComparison.OrdinalIgnoreCase)) return false;
                continue;
            }
            if (segments[i].Length == 0) return false;
            var name = part.Trim('{', '}');
            var schema = Parameters.FirstOrDefault(p => p["name"]?.GetValue<string>() == name && p["in"]?.GetValue<string>() == "path")?["schema"];
            if (schema?["format"]?.GetValue<string>() == "uuid" && !Guid.TryParse(segments[i], out _)) return false;
        }
        return true;
    }

    public override string ToString() => $"{Method} {Template}";
}
