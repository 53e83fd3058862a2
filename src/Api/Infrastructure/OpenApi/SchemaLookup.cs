using Microsoft.OpenApi;

namespace Monolith.Api.Infrastructure.OpenApi;

/// <summary>Finding the component schema behind a reference, as document filters need it.</summary>
public static class SchemaLookup
{
    /// <summary>
    /// The component id <paramref name="schema"/> refers to: itself a reference, or a nullable wrapper of exactly one
    /// (<c>allOf</c>/<c>oneOf</c>/<c>anyOf</c> of a reference, beside a null type); null when it refers to none.
    /// </summary>
    public static string? ReferencedId(IOpenApiSchema? schema)
    {
        if (schema is OpenApiSchemaReference reference) return reference.Reference.Id;
        if (schema is not OpenApiSchema concrete) return null;
        var references = (concrete.AllOf ?? []).Concat(concrete.OneOf ?? []).Concat(concrete.AnyOf ?? []).OfType<OpenApiSchemaReference>().ToList();
        return references.Count == 1 ? references[0].Reference.Id : null;
    }

    /// <summary>The value under <paramref name="key"/>, or default when the map is null or lacks it.</summary>
    public static TValue? Find<TValue>(this IDictionary<string, TValue>? map, string? key) =>
        map is not null && key is not null && map.TryGetValue(key, out var value) ? value : default;

    /// <summary>The concrete schema <paramref name="schema"/> is, or the component it refers to.</summary>
    public static OpenApiSchema? Resolve(OpenApiDocument document, IOpenApiSchema? schema) =>
        ReferencedId(schema) is { } id
            ? document.Components?.Schemas?.Find(id) as OpenApiSchema
            : schema as OpenApiSchema;

    /// <summary>The component ids <paramref name="schemas"/> use, directly or through other components.</summary>
    public static HashSet<string> Reachable(OpenApiDocument document, IEnumerable<IOpenApiSchema?> schemas)
    {
        var seen = new HashSet<string>();
        foreach (var schema in schemas) Visit(document, schema, seen);
        return seen;
    }

    private static void Visit(OpenApiDocument document, IOpenApiSchema? schema, HashSet<string> seen)
    {
        if (schema is null) return;
        if (schema is OpenApiSchemaReference reference)
        {
            if (reference.Reference.Id is { } id && seen.Add(id)) Visit(document, document.Components?.Schemas?.Find(id), seen);
            return;
        }
        foreach (var child in (schema.Properties?.Values ?? []).Concat(schema.AllOf ?? []).Concat(schema.OneOf ?? []).Concat(schema.AnyOf ?? []))
        {
            Visit(document, child, seen);
        }
        Visit(document, schema.Items, seen);
        Visit(document, schema.AdditionalProperties, seen);
    }
}
