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
        var answers = (document.Paths ?? []).Values
            .SelectMany(path => path.Operations?.Values.AsEnumerable() ?? [])
            .SelectMany(operation => operation.Responses?.Values.AsEnumerable() ?? [])
            .SelectMany(response => response.Content?.Values.AsEnumerable() ?? [])
            .Select(media => media.Schema);
        foreach (var id in SchemaLookup.Reachable(document, answers).Except(ProblemSchemas))
        {
            if (document.Components?.Schemas?.Find(id) is OpenApiSchema { Properties: { Count: > 0 } properties } component)
            {
                component.Required = new HashSet<string>(properties.Keys);
            }
        }
    }
}
