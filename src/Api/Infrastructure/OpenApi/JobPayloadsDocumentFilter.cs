using FluentValidation;
using Microsoft.OpenApi;
using Monolith.Api.Features.Jobs;
using Monolith.Worker.Engine;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Monolith.Api.Infrastructure.OpenApi;

/// <summary>
/// <c>POST /v1/jobs</c> as the job type registry defines it: <c>type</c> is one of the public job types, <c>queue</c> one
/// of the configured queues, <c>payload</c> is required, and <c>oneOf</c> (with a discriminator on <c>type</c>) gives
/// each type's payload schema, generated from its payload record and its validator's rules (<see cref="ValidatorRules"/>).
/// Internal types (submitted by the service itself) are left out.
/// </summary>
public sealed class JobPayloadsDocumentFilter(JobTypeRegistry types, QueueSelector queues) : IDocumentAsyncFilter
{
    public async Task ApplyAsync(OpenApiDocument document, DocumentFilterContext context, CancellationToken cancellationToken)
    {
        if (!context.SchemaRepository.TryLookupByType(typeof(SubmitJobRequest), out var reference)
            || SchemaLookup.Resolve(document, reference) is not { Properties: { } properties } submit)
        {
            return;
        }
        var kinds = types.All.Where(t => !t.Defaults.Internal).ToList();
        if (properties.Find("type") is OpenApiSchema type) EnumValuesSchemaFilter.SetEnum(type, kinds.Select(k => k.Kind));
        if (properties.Find("queue") is OpenApiSchema queue) EnumValuesSchemaFilter.SetEnum(queue, queues.Names);
        (submit.Required ??= new HashSet<string>()).Add("payload");

        var variants = new List<IOpenApiSchema>();
        var mapping = new Dictionary<string, OpenApiSchemaReference>();
        foreach (var kind in kinds)
        {
            var payload = context.SchemaGenerator.GenerateSchema(kind.PayloadType, context.SchemaRepository);
            if (SchemaLookup.Resolve(document, payload) is { } payloadSchema && ValidatorOf(kind) is { } validator)
            {
                await ValidatorRules.ApplyAsync(document, payloadSchema, kind.PayloadType, validator, cancellationToken);
            }
            var id = string.Concat(kind.Kind.Split('_').Select(w => char.ToUpperInvariant(w[0]) + w[1..])) + "JobRequest";
            document.Components!.Schemas![id] = new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                Description = $"A '{kind.Kind}' job: its type and its payload's schema (the other fields as in SubmitJobRequest).",
                Required = new HashSet<string> { "type", "payload" },
                Properties = new Dictionary<string, IOpenApiSchema>
                {
                    ["type"] = new OpenApiSchema { Type = JsonSchemaType.String, Enum = [kind.Kind] },
                    ["payload"] = payload,
                },
            };
            variants.Add(new OpenApiSchemaReference(id, document));
            mapping[kind.Kind] = new OpenApiSchemaReference(id, document);
        }
        submit.OneOf = variants;
        submit.Discriminator = new OpenApiDiscriminator { PropertyName = "type", Mapping = mapping };
    }

    /// <summary>The payload validator a job type was registered with (<see cref="JobTypeDefinition{THandler,TPayload,TValidator}"/>).</summary>
    private static IValidator? ValidatorOf(JobTypeDefinition kind) =>
        kind.GetType() is { IsGenericType: true } type && type.GetGenericTypeDefinition() == typeof(JobTypeDefinition<,,>)
            ? Activator.CreateInstance(type.GetGenericArguments()[2]) as IValidator
            : null;
}
