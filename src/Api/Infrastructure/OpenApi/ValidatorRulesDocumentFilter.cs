using FluentValidation;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Monolith.Api.Infrastructure.OpenApi;

/// <summary>Every request body with a registered validator gets that validator's rules in its schema (<see cref="ValidatorRules"/>).</summary>
public sealed class ValidatorRulesDocumentFilter(IServiceProvider services) : IDocumentAsyncFilter
{
    public async Task ApplyAsync(OpenApiDocument document, DocumentFilterContext context, CancellationToken cancellationToken)
    {
        var bodies = context.ApiDescriptions.SelectMany(d => d.ParameterDescriptions)
            .Where(p => p.Source == BindingSource.Body && p.Type is not null)
            .Select(p => p.Type)
            .Distinct();
        foreach (var type in bodies)
        {
            if (services.GetService(typeof(IValidator<>).MakeGenericType(type)) is not IValidator validator) continue;
            if (!context.SchemaRepository.TryLookupByType(type, out var reference)) continue;
            if (SchemaLookup.Resolve(document, reference) is not { } schema) continue;
            await ValidatorRules.ApplyAsync(document, schema, type, validator, cancellationToken);
        }
    }
}
