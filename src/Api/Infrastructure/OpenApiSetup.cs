using System.Reflection;
using Microsoft.OpenApi;
using Monolith.Api.Infrastructure.OpenApi;

namespace Monolith.Api.Infrastructure;

/// <summary>
/// The OpenAPI document (Swashbuckle) and Swagger UI. The document states what the server enforces, read from where
/// each fact lives: required fields and limits from the FluentValidation validators (<see cref="ValidatorRulesDocumentFilter"/>),
/// a payload schema per job type from the job type registry (<see cref="JobPayloadsDocumentFilter"/>), enums from the
/// domain's enums (<see cref="EnumValuesAttribute"/>), parameter facts from the endpoints (<see cref="ParameterFacts"/>),
/// the error answers from the endpoints' authorization and bodies (<see cref="ErrorAnswersOperationFilter"/>), and that
/// every property of an answer is always written (<see cref="ResponseSchemasRequiredDocumentFilter"/>).
/// </summary>
public static class OpenApiSetup
{
    public const string DocumentPath = "/swagger/v1/swagger.json";

    public static IServiceCollection AddOpenApiDocument(this IServiceCollection services)
    {
        services.AddEndpointsApiExplorer();
        services.AddSwaggerGen(o =>
        {
            o.SwaggerDoc("v1", new OpenApiInfo
            {
                Title = "Monolith",
                Version = "v1",
                Description = "Background jobs: submit, watch, cancel and retry. Send your key in the X-Api-Key header " +
                              "(Authorize button). Errors are RFC 9457 problem details.",
            });
            o.IncludeXmlComments(Path.Combine(AppContext.BaseDirectory, $"{Assembly.GetExecutingAssembly().GetName().Name}.xml"), true);
            // string is never null, string? may be: as the contracts are written.
            o.SupportNonNullableReferenceTypes();
            // A reference that may be null (JobProgressResponse? progress) is written as allOf + nullable.
            o.UseAllOfToExtendReferenceSchemas();
            o.AddSecurityDefinition(ApiKeyAuthentication.SchemeName, new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = ApiKeyAuthentication.HeaderName,
                Description = "A tenant's API key, or ADMIN_API_KEY.",
            });
            o.AddSecurityRequirement(document => new OpenApiSecurityRequirement
            {
                [new OpenApiSecuritySchemeReference(ApiKeyAuthentication.SchemeName, document)] = [],
            });
            o.SchemaFilter<ExamplesSchemaFilter>();
            o.SchemaFilter<EnumValuesSchemaFilter>();
            o.OperationFilter<ParameterFactsOperationFilter>();
            o.OperationFilter<AnyMediaTypeAnswersOperationFilter>();
            o.OperationFilter<ErrorAnswersOperationFilter>();
            // In this order: payload schemas and validator rules first, then every answer's properties marked required.
            o.DocumentAsyncFilter<JobPayloadsDocumentFilter>();
            o.DocumentAsyncFilter<ValidatorRulesDocumentFilter>();
            o.DocumentFilter<ResponseSchemasRequiredDocumentFilter>();
            o.DocumentFilter<NullableReferencesDocumentFilter>();
            o.DocumentFilter<RequestSchemasOpenDocumentFilter>();
        });
        return services;
    }

    /// <summary>Serves the document (its <c>servers</c> entry is where it was asked for) and Swagger UI.</summary>
    public static WebApplication UseOpenApiDocument(this WebApplication app)
    {
        app.UseSwagger(o => o.PreSerializeFilters.Add((document, request) =>
            document.Servers = [new OpenApiServer { Url = $"{request.Scheme}://{request.Host.Value}{request.PathBase}" }]));
        app.UseSwaggerUI(o => o.SwaggerEndpoint(DocumentPath, "Monolith v1"));
        return app;
    }
}
