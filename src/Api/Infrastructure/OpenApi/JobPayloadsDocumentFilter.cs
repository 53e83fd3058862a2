using FluentValidation;
using Microsoft.OpenApi;
using Monolith.Api.Features.Jobs;
using Monolith.Worker.Engine;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Monolith.Api.Infrastructure.OpenApi;

/// <summary>
/// <c>POST /v1/jobs</c> (and each job of a batch) as the job type registry defines it:
/// <list type="bullet">
/// <item><c>SubmitJobRequest</c> is every job's fields: <c>type</c> one of the public job types, <c>queue</c> one of the
/// configured queues, <c>payload</c> required.</item>
/// <item>One <c>…JobRequest</c> schema per type: <c>allOf</c> those fields and its <c>type</c> with its payload's schema,
/// generated from the payload record and its validator's rules (<see cref="ValidatorRules"/>).</item>
/// <item><see cref="Submission"/>, what the bodies refer to: <c>oneOf</c> the types' schemas with a discriminator on
/// <c>type</c>, so that a generated client has a class per job type.</item>
/// </list>
/// Internal types (submitted by the service itself) are left out.
/// </summary>
public sealed class JobPayloadsDocumentFilter(JobTypeRegistry types, QueueSelector queues) : IDocumentAsyncFilter
{
    /// <summary>The schema id of "a job to submit, of one of the types".</summary>
    public const string Submission = "JobSubmission";

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

        var schemas = document.Components!.Schemas!;
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
            schemas[id] = new OpenApiSchema
            {
                Description = $"A '{kind.Kind}' job: the fields of every job, with this type's payload.",
                AllOf =
                [
                    new OpenApiSchemaReference(reference.Reference.Id!, document),
                    new OpenApiSchema
                    {
                        Type = JsonSchemaType.Object,
                        Required = new HashSet<string> { "type", "payload" },
                        Properties = new Dictionary<string, IOpenApiSchema>
                        {
                            ["type"] = new OpenApiSchema { Type = JsonSchemaType.String, Enum = [kind.Kind] },
                            ["payload"] = payload,
                        },
                    },
                ],
            };
            variants.Add(new OpenApiSchemaReference(id, document));
            mapping[kind.Kind] = new OpenApiSchemaReference(id, document);
        }
        schemas[Submission] = new OpenApiSchema
        {
            Description = "A job to run, of one of the types (type decides the payload's schema).",
            OneOf = variants,
            Discriminator = new OpenApiDiscriminator { PropertyName = "type", Mapping = mapping },
        };

        // Bodies and batches refer to the union rather than to the fields every job has.
        foreach (var media in (document.Paths ?? []).Values
                     .SelectMany(path => path.Operations?.Values.AsEnumerable() ?? [])
                     .SelectMany(operation => operation.RequestBody?.Content?.Values.AsEnumerable() ?? []))
        {
            if (media is OpenApiMediaType concrete) concrete.Schema = Retarget(concrete.Schema, reference.Reference.Id!, document);
        }
        if (context.SchemaRepository.TryLookupByType(typeof(SubmitJobBatchRequest), out var batchReference)
            && SchemaLookup.Resolve(document, batchReference)?.Properties?.Find("jobs") is OpenApiSchema jobs)
        {
            jobs.Items = Retarget(jobs.Items, reference.Reference.Id!, document);
        }
    }

    /// <summary><paramref name="schema"/> with a reference to <paramref name="id"/> (bare or wrapped in allOf) pointing at <see cref="Submission"/>.</summary>
    private static IOpenApiSchema? Retarget(IOpenApiSchema? schema, string id, OpenApiDocument document)
    {
        if (schema is OpenApiSchemaReference bare) return bare.Reference.Id == id ? new OpenApiSchemaReference(Submission, document) : bare;
        if (schema is OpenApiSchema { AllOf: [OpenApiSchemaReference wrapped] } wrapper && wrapped.Reference.Id == id)
        {
            wrapper.AllOf = [new OpenApiSchemaReference(Submission, document)];
        }
        return schema;
    }

    /// <summary>The payload validator a job type was registered with (<see cref="JobTypeDefinition{THandler,TPayload,TValidator}"/>).</summary>
    private static IValidator? ValidatorOf(JobTypeDefinition kind) =>
        kind.GetType() is { IsGenericType: true } type && type.GetGenericTypeDefinition() == typeof(JobTypeDefinition<,,>)
            ? Activator.CreateInstance(type.GetGenericArguments()[2]) as IValidator
            : null;
}
