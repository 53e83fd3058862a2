using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Monolith.Tests.Contract;

namespace Monolith.Tests.Security;

/// <summary>One hostile request for one operation; <see cref="Build"/> makes a fresh message each time it is sent.</summary>
public sealed record FuzzCase(OpenApiOperation Operation, string Label, Func<HttpRequestMessage> Build);

/// <summary>
/// Hostile requests for every operation of the service's own OpenAPI document: a baseline request built from the
/// document (path and query parameters from their schemas and examples, the body from the documented example or a
/// sample NJsonSchema generates from the request schema), then that request with one thing made hostile at a time
/// (<see cref="HostileValues"/>): each parameter, each JSON value of the body, the whole body, its media type, a
/// multipart body's file name, fields and framing. Where the request schema has a discriminator (a job's type), there is a
/// baseline body for each of its types, with that type's payload. Properties named after things that must exist
/// (<c>uploadId</c>, a <c>url</c> the service may call) get real values, so that hostile values get past the first check.
/// </summary>
public sealed class FuzzRequests(
    OpenApiContract contract, Func<OpenApiOperation, string, string?> knownValue, Func<string, JsonNode?> knownBodyValue, Random random)
{
    private const string Placeholder = "__fuzz_value__";
    private const string Boundary = "b";

    public async Task<List<FuzzCase>> ForAsync(OpenApiOperation operation)
    {
        var cases = new List<FuzzCase>();
        var parameters = operation.Parameters.ToList();
        var baseline = new Dictionary<string, string>();
        foreach (var parameter in parameters)
        {
            if (BaselineValue(operation, parameter) is { } value) baseline[Name(parameter)] = Escape(value);
        }
        var media = operation.RequestBody?["content"]?.AsObject().Select(c => c.Key).ToList() ?? [];
        var bodies = media.Contains("application/json") ? await SampleBodiesAsync(operation) : [];
        var json = bodies.FirstOrDefault();
        var multipart = media.Contains("multipart/form-data");

        HttpRequestMessage Request(Dictionary<string, string> values, Func<HttpContent?>? content = null, string? query = null)
        {
            var request = new HttpRequestMessage(new HttpMethod(operation.Method), Url(operation, parameters, values, query));
            foreach (var header in parameters.Where(p => In(p) == "header" && values.ContainsKey(Name(p))))
            {
                request.Headers.TryAddWithoutValidation(Name(header), Uri.UnescapeDataString(values[Name(header)]));
            }
            request.Content = content?.Invoke();
            return request;
        }

        Func<HttpContent?> baselineBody = json is not null ? () => Json(json)
            : multipart ? () => DatasetForm("yob2020.txt", "US", "Olivia,F,10\r\n")
            : () => null;
        cases.Add(new(operation, "baseline", () => Request(baseline, baselineBody)));
        cases.Add(new(operation, "unknown query parameter with NUL", () => Request(baseline, baselineBody, "zz=%00")));

        // One parameter at a time.
        foreach (var parameter in parameters)
        {
            var name = Name(parameter);
            foreach (var text in HostileValues.Texts)
            {
                cases.Add(new(operation, $"{In(parameter)} {name}={Describe(text)}", () => Request(With(baseline, name, Escape(text)), baselineBody)));
            }
            if (In(parameter) == "query")
            {
                foreach (var encoded in HostileValues.EncodedQueryValues)
                {
                    cases.Add(new(operation, $"query {name}={encoded}", () => Request(With(baseline, name, encoded), baselineBody)));
                }
                cases.Add(new(operation, $"query {name} twice", () => Request(baseline, baselineBody, $"{name}=1&{name}=%00")));
            }
        }

        foreach (var variant in bodies.Skip(1))
        {
            cases.Add(new(operation, "baseline " + Describe(variant), () => Request(baseline, () => Json(variant))));
        }
        foreach (var variant in bodies)
        {
            // One JSON value at a time, each replaced by a sample of hostile values.
            var root = JsonNode.Parse(variant)!;
            var kind = root["type"] is JsonValue type ? $"({type}) " : "";
            foreach (var path in Paths(root, ""))
            {
                // Text PostgreSQL cannot store every time; a sample of the rest.
                foreach (var hostile in HostileValues.Json.Take(HostileValues.AlwaysJson).Concat(HostileValues.Json.Skip(HostileValues.AlwaysJson).OrderBy(_ => random.Next()).Take(11)))
                {
                    var body = Replace(root, path, hostile);
                    cases.Add(new(operation, $"body {kind}{path}={Describe(hostile)}", () => Request(baseline, () => Json(body))));
                }
            }
        }
        // Headers every operation reads or might: the key, and ranges and validators where bytes are served.
        foreach (var key in HostileValues.ApiKeys)
        {
            cases.Add(new(operation, $"X-Api-Key {Describe(key)}", () =>
            {
                var request = Request(baseline, baselineBody);
                request.Headers.TryAddWithoutValidation("X-Api-Key", key);
                return request;
            }));
        }
        if (operation.Method == "GET")
        {
            foreach (var (header, value) in HostileValues.ConditionalHeaders)
            {
                cases.Add(new(operation, $"{header}: {Describe(value)}", () =>
                {
                    var request = Request(baseline, baselineBody);
                    request.Headers.TryAddWithoutValidation(header, value);
                    return request;
                }));
            }
        }

        if (json is not null)
        {
            var root = JsonNode.Parse(json)!;
            if (Paths(root, "").FirstOrDefault() is { } first)
            {
                var megabyte = Replace(root, first, HostileValues.MegabyteString());
                cases.Add(new(operation, $"body {first}=a megabyte string", () => Request(baseline, () => Json(megabyte))));
                var deep = Replace(root, first, HostileValues.DeepArray(10_000));
                cases.Add(new(operation, $"body {first}=deeply nested array", () => Request(baseline, () => Json(deep))));
            }
            foreach (var (label, bytes) in HostileValues.Bodies(json))
            {
                cases.Add(new(operation, $"body: {label}", () => Request(baseline, () => Bytes(bytes, "application/json"))));
            }
            foreach (var type in HostileValues.ContentTypes)
            {
                cases.Add(new(operation, $"Content-Type: {type ?? "(none)"}", () => Request(baseline, () => Bytes(Encoding.UTF8.GetBytes(json), type))));
            }
        }
        if (multipart || operation.Method == "POST" && json is null)
        {
            // Multipart bodies for the operations that read them (and, as garbage, for those that do not).
            foreach (var fileName in HostileValues.FileNames)
            {
                cases.Add(new(operation, $"multipart file name {Describe(fileName)}", () => Request(baseline, () => DatasetForm(fileName, "US", "Olivia,F,10\r\n"))));
            }
            foreach (var text in HostileValues.Texts.Take(20))
            {
                cases.Add(new(operation, $"multipart country={Describe(text)}", () => Request(baseline, () => DatasetForm("yob2020.txt", text, "Olivia,F,10\r\n"))));
                cases.Add(new(operation, $"multipart format={Describe(text)}", () => Request(baseline, () => DatasetForm("yob2020.txt", "US", "Olivia,F,10\r\n", format: text))));
                cases.Add(new(operation, $"multipart callbackUrl={Describe(text)}", () => Request(baseline, () => DatasetForm("yob2020.txt", "US", "x", callbackUrl: text))));
            }
            cases.Add(new(operation, "multipart file with NUL and invalid UTF-8 content", () => Request(baseline,
                () => DatasetForm("yob2020.txt", "US", "Oli\0via,F,1\r\n\u00ff\ud800,M,2\r\n"))));
            foreach (var (label, bytes) in HostileValues.BrokenMultipart())
            {
                cases.Add(new(operation, $"multipart: {label}", () => Request(baseline, () => Bytes(bytes, $"multipart/form-data; boundary={Boundary}"))));
            }
            foreach (var type in new[] { "multipart/form-data", "multipart/form-data; boundary=", "multipart/form-data; boundary=\"unterminated", "multipart/mixed; boundary=b" })
            {
                cases.Add(new(operation, $"Content-Type: {type}", () => Request(baseline, () => Bytes("--b\r\n\r\n--b--"u8.ToArray(), type))));
            }
            foreach (var fileName in HostileValues.FileNames)
            {
                cases.Add(new(operation, $"raw body, Content-Disposition file name {Describe(fileName)}", () =>
                {
                    var content = Bytes("%PDF-1.7"u8.ToArray(), "application/pdf");
                    content.Headers.TryAddWithoutValidation("Content-Disposition", $"attachment; filename*=UTF-8''{Escape(fileName)}");
                    return Request(baseline, () => content);
                }));
            }
            cases.Add(new(operation, "raw body, Content-Type with NUL", () => Request(baseline, () =>
            {
                var content = new ByteArrayContent("x"u8.ToArray());
                content.Headers.TryAddWithoutValidation("Content-Type", "application/pdf\0x");
                return content;
            })));
        }
        return cases;
    }

    private static string Name(JsonObject parameter) => parameter["name"]!.GetValue<string>();

    private static string In(JsonObject parameter) => parameter["in"]!.GetValue<string>();

    private static Dictionary<string, string> With(Dictionary<string, string> values, string name, string value) => new(values) { [name] = value };

    /// <summary>A value the operation accepts for a parameter: a known id or name, else the schema's example, first enum value or minimum.</summary>
    private string? BaselineValue(OpenApiOperation operation, JsonObject parameter)
    {
        if (knownValue(operation, Name(parameter)) is { } known) return known;
        var schema = parameter["schema"];
        if (parameter["example"] is { } example) return example.ToString();
        if (schema?["enum"]?.AsArray().FirstOrDefault(v => v is not null) is { } first) return first.ToString();
        var required = parameter["required"]?.GetValue<bool>() == true;
        if (!required && In(parameter) != "path") return null;
        return schema?["format"]?.GetValue<string>() == "uuid" ? Guid.NewGuid().ToString()
            : schema?["type"]?.GetValue<string>() == "integer" ? schema["minimum"]?.ToString() ?? "1"
            : "x";
    }

    /// <summary>
    /// Baseline bodies: the documented example of the request body, else a sample NJsonSchema generates from its
    /// schema; then, for each type of a discriminator, the same body with that type and a sample of its payload.
    /// </summary>
    private async Task<List<string>> SampleBodiesAsync(OpenApiOperation operation)
    {
        var media = operation.RequestBody!["content"]!["application/json"]!;
        var schemaNode = media["schema"]!;
        var component = Component(schemaNode);
        var first = media["example"]?.DeepClone() ?? schemaNode["example"]?.DeepClone() ?? component?["example"]?.DeepClone()
                    ?? JsonNode.Parse((await contract.SchemaAsync($"request {operation}", schemaNode)).ToSampleJson().ToString(Newtonsoft.Json.Formatting.None))!;
        var bodies = new List<JsonNode> { first };
        if (component?["discriminator"] is { } discriminator && first is JsonObject)
        {
            var property = discriminator["propertyName"]!.GetValue<string>();
            foreach (var (kind, reference) in discriminator["mapping"]!.AsObject())
            {
                var variant = first.DeepClone().AsObject();
                variant[property] = kind;
                var variantSchema = Component(reference!);
                if ((variantSchema?["properties"]?["payload"]
                     ?? variantSchema?["allOf"]?.AsArray().Select(part => part?["properties"]?["payload"]).FirstOrDefault(p => p is not null)) is { } payloadSchema)
                {
                    var payload = await contract.SchemaAsync($"payload {kind}", payloadSchema);
                    variant["payload"] = JsonNode.Parse(payload.ToSampleJson().ToString(Newtonsoft.Json.Formatting.None));
                }
                bodies.Add(variant);
            }
        }
        foreach (var body in bodies) Fill(body);
        return bodies.Select(b => b.ToJsonString()).ToList();
    }

    /// <summary>The component a schema refers to: a reference's text, <c>$ref</c>, or a lone <c>allOf</c> reference.</summary>
    private JsonNode? Component(JsonNode schemaOrReference) =>
        (schemaOrReference is JsonValue value ? value.GetValue<string>()
            : schemaOrReference["$ref"]?.GetValue<string>() ?? schemaOrReference["allOf"]?[0]?["$ref"]?.GetValue<string>()) is { } reference
            ? contract.Document["components"]?["schemas"]?[reference.Split('/')[^1]]
            : null;

    /// <summary>Sets every property that names something that must exist to a value that does (<c>uploadId</c>, <c>url</c>).</summary>
    private void Fill(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (name, value) in obj.ToList())
                {
                    if (value is JsonValue && knownBodyValue(name) is { } known) obj[name] = known.DeepClone();
                    else Fill(value);
                }
                break;
            case JsonArray array:
                foreach (var item in array) Fill(item);
                break;
        }
    }

    private static string Url(OpenApiOperation operation, List<JsonObject> parameters, Dictionary<string, string> values, string? extraQuery)
    {
        var path = operation.Template;
        foreach (var parameter in parameters.Where(p => In(p) == "path"))
        {
            path = path.Replace("{" + Name(parameter) + "}", values.GetValueOrDefault(Name(parameter)) ?? "x", StringComparison.Ordinal);
        }
        var query = parameters.Where(p => In(p) == "query" && values.ContainsKey(Name(p))).Select(p => $"{Name(p)}={values[Name(p)]}").ToList();
        if (extraQuery is not null) query.Add(extraQuery);
        return query.Count == 0 ? path : path + "?" + string.Join('&', query);
    }

    /// <summary>Percent-encodes text for a URL; a lone surrogate (which has no UTF-8 form) is sent as its three CESU-8 bytes.</summary>
    private static string Escape(string text)
    {
        var escaped = new StringBuilder();
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsSurrogatePair(text, i))
            {
                escaped.Append(Uri.EscapeDataString(text.Substring(i++, 2)));
            }
            else if (char.IsSurrogate(text[i]))
            {
                var c = (int)text[i];
                escaped.Append($"%{0xE0 | (c >> 12):X2}%{0x80 | ((c >> 6) & 0x3F):X2}%{0x80 | (c & 0x3F):X2}");
            }
            else
            {
                escaped.Append(Uri.EscapeDataString(text[i].ToString()));
            }
        }
        return escaped.ToString();
    }

    private static IEnumerable<string> Paths(JsonNode? node, string path)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (name, value) in obj)
                {
                    var child = path.Length == 0 ? name : $"{path}.{name}";
                    yield return child;
                    foreach (var nested in Paths(value, child)) yield return nested;
                }
                break;
            case JsonArray { Count: > 0 } array:
                yield return $"{path}[0]";
                foreach (var nested in Paths(array[0], $"{path}[0]")) yield return nested;
                break;
        }
    }

    /// <summary>The body with the value at <paramref name="path"/> replaced by raw JSON text (kept exactly as written).</summary>
    private static string Replace(JsonNode root, string path, string rawJson)
    {
        var copy = root.DeepClone();
        JsonNode? parent = copy;
        var parts = path.Replace("[0]", ".[0]", StringComparison.Ordinal).Split('.', StringSplitOptions.RemoveEmptyEntries);
        for (var i = 0; i < parts.Length - 1; i++) parent = parts[i] == "[0]" ? parent![0] : parent![parts[i]];
        if (parts[^1] == "[0]") parent!.AsArray()[0] = Placeholder;
        else parent!.AsObject()[parts[^1]] = Placeholder;
        return copy.ToJsonString().Replace($"\"{Placeholder}\"", rawJson, StringComparison.Ordinal);
    }

    private static ByteArrayContent Json(string json) => Bytes(Encoding.UTF8.GetBytes(json), "application/json");

    private static ByteArrayContent Bytes(byte[] bytes, string? contentType)
    {
        var content = new ByteArrayContent(bytes);
        if (contentType is not null) content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        return content;
    }

    /// <summary>A names-file form as <c>POST /v1/datasets</c> reads it (and <c>POST /v1/uploads</c> its 'file' part), written by hand so that any byte can be sent.</summary>
    private static ByteArrayContent DatasetForm(string fileName, string country, string file, string? format = null, string? callbackUrl = null)
    {
        var body = new List<byte>();
        void Field(string name, string value) =>
            body.AddRange(Encoding.UTF8.GetBytes($"--{Boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"));
        Field("country", country);
        if (format is not null) Field("format", format);
        if (callbackUrl is not null) Field("callbackUrl", callbackUrl);
        body.AddRange(Encoding.UTF8.GetBytes(
            $"--{Boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{fileName}\"\r\nContent-Type: text/plain\r\n\r\n{file}\r\n--{Boundary}--\r\n"));
        var content = new ByteArrayContent(body.ToArray());
        content.Headers.TryAddWithoutValidation("Content-Type", $"multipart/form-data; boundary={Boundary}");
        return content;
    }

    /// <summary>A short, printable description of a hostile value for the failure message.</summary>
    public static string Describe(string value)
    {
        var shown = new StringBuilder();
        foreach (var c in value.Length > 40 ? value[..40] : value)
        {
            shown.Append(c is < ' ' or '\u007f' || char.IsSurrogate(c) || c is '\u202E' or '\uFEFF' ? $"\\u{(int)c:x4}" : c.ToString());
        }
        return value.Length > 40 ? $"{shown}… ({value.Length} chars)" : shown.ToString();
    }
}
