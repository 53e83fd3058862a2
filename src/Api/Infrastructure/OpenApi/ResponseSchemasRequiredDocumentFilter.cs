using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Monolith.Api.Infrastructure.OpenApi;

/// <summary>
/// Every property of an answer is always written (null where the schema says it may be; the API's JSON options
/// leave nothing out), so every schema an answer uses lists all its properties as required: a client generated from
/// the document gets non-optional fields. Problem bodies are left as they are (RFC 9457 members are optional).
/// </summary>
public sealed class ResponseSchemasRequiredDocumentFilter : IDocumentFilter
{
    private static readonly HashSet<string> ProblemSchemas = ["ProblemDetails", "HttpValidationProblemDetails"];

    public void Apply(OpenApiDocument document, DocumentFilterContext context)
    {
        var seen = new HashSet<string>();
        var answers = (document.Paths ?? []).Values
            .SelectMany(path => path.Operations?.Values.AsEnumerable() ?? [])
            .SelectMany(operation => operation.Responses?.Values.AsEnumerable() ?? [])
            .SelectMany(response => response.Content?.Values.AsEnumerable() ?? [])
            .Select(media => media.Schema);
        foreach (var schema in answers) Visit(document, schema, seen);

        foreach (var id in seen.Except(ProblemSchemas))
        {
            if (document.Components?.Schemas?.Find(id) is OpenApiSchema { Properties: { Count: > 0 } properties } component)
            {
                component.Required = new HashSet<string>(properties.Keys);
            }
        }
    }

    /// <summary>Collects the component ids <paramref name="schema"/> uses, directly or through others.</summary>
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
