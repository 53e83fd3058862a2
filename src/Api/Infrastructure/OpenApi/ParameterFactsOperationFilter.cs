using System.Globalization;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Monolith.Api.Infrastructure.OpenApi;

/// <summary>Applies an endpoint's <see cref="ParameterFacts"/> to its operation's parameters.</summary>
public sealed class ParameterFactsOperationFilter : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        foreach (var facts in context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<ParameterFacts>())
        {
            var parameter = operation.Parameters?.OfType<OpenApiParameter>().FirstOrDefault(p => p.Name == facts.Name)
                ?? throw new InvalidOperationException($"{context.ApiDescription.RelativePath} has no parameter '{facts.Name}' to document.");
            if (facts.Required) parameter.Required = true;
            if (parameter.Schema is not OpenApiSchema schema) continue;
            if (facts.Minimum is { } minimum) schema.Minimum = minimum.ToString(CultureInfo.InvariantCulture);
            if (facts.Maximum is { } maximum) schema.Maximum = maximum.ToString(CultureInfo.InvariantCulture);
            if (facts.MaxLength is { } maxLength) schema.MaxLength = maxLength;
            if (facts.Values is { } values) EnumValuesSchemaFilter.SetEnum(schema, values, nullable: false);
        }
    }
}
