using Microsoft.OpenApi;
using Monolith.Worker.Engine;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Monolith.Api.Infrastructure.OpenApi;

/// <summary>
/// Request bodies are read with the framework's JSON options, which skip a property they do not know, so their
/// schemas do not say <c>additionalProperties: false</c>: the server does not enforce it. Job payloads are the
/// exception: they are read refusing unknown properties (a typo must not become a default), and keep it.
/// </summary>
public sealed class RequestSchemasOpenDocumentFilter(JobTypeRegistry types) : IDocumentFilter
{
    public void Apply(OpenApiDocument document, DocumentFilterContext context)
    {
        var bodies = (document.Paths ?? []).Values
            .SelectMany(path => path.Operations?.Values.AsEnumerable() ?? [])
            .SelectMany(operation => operation.RequestBody?.Content?.Values.AsEnumerable() ?? [])
            .Select(media => media.Schema);
        var closed = types.All
            .Select(t => context.SchemaRepository.TryLookupByType(t.PayloadType, out var reference) ? reference.Reference.Id : null)
            .OfType<string>()
            .ToHashSet();
        foreach (var id in SchemaLookup.Reachable(document, bodies).Except(closed))
        {
            if (document.Components?.Schemas?.Find(id) is OpenApiSchema { AdditionalPropertiesAllowed: false } schema && schema.AdditionalProperties is null)
            {
                schema.AdditionalPropertiesAllowed = true;
            }
        }
    }
}
