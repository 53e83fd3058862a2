using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Monolith.Api.Infrastructure.OpenApi;

/// <summary>
/// A reference that may be null (<c>JobProgressResponse? progress</c>) is written as <c>allOf</c> of the reference with
/// <c>nullable: true</c>; OpenAPI 3.0.3 gives <c>nullable</c> meaning only beside a <c>type</c>, so the wrapper gets the
/// referenced schema's type too (<c>type: object, nullable: true, allOf: [$ref]</c>), as linters ask.
/// </summary>
public sealed class NullableReferencesDocumentFilter : IDocumentFilter
{
    public void Apply(OpenApiDocument document, DocumentFilterContext context)
    {
        foreach (var schema in (document.Components?.Schemas?.Values.AsEnumerable() ?? []).OfType<OpenApiSchema>())
        {
            foreach (var property in (schema.Properties?.Values.AsEnumerable() ?? []).Append(schema.Items).OfType<OpenApiSchema>())
            {
                if (property.Type != JsonSchemaType.Null || property.AllOf is not [OpenApiSchemaReference reference]) continue;
                var target = SchemaLookup.Resolve(document, reference);
                property.Type = (target?.Type ?? JsonSchemaType.Object) | JsonSchemaType.Null;
            }
        }
    }
}
