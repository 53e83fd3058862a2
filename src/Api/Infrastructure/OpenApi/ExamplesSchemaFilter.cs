using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Monolith.Api.Features.Admin;
using Monolith.Api.Features.Jobs;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Monolith.Api.Infrastructure.OpenApi;

/// <summary>Example bodies shown in Swagger UI.</summary>
public sealed class ExamplesSchemaFilter : ISchemaFilter
{
    public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
    {
        if (schema is not OpenApiSchema concrete) return;
        if (context.Type == typeof(SubmitJobRequest))
        {
            concrete.Examples = [new JsonObject
            {
                ["type"] = "sleep",
                ["payload"] = new JsonObject { ["ms"] = 2000 },
                ["queue"] = "default",
                ["priority"] = 0,
                ["delaySeconds"] = 0,
                ["maxAttempts"] = 3,
                ["timeoutSeconds"] = 60,
            }];
        }
        else if (context.Type == typeof(SubmitJobBatchRequest))
        {
            concrete.Examples = [new JsonObject
            {
                ["jobs"] = new JsonArray(
                    new JsonObject { ["type"] = "noop", ["payload"] = new JsonObject() },
                    new JsonObject { ["type"] = "sleep", ["payload"] = new JsonObject { ["ms"] = 500 }, ["queue"] = "low" }),
            }];
        }
        else if (context.Type == typeof(CreateTenantRequest))
        {
            concrete.Examples = [new JsonObject { ["name"] = "acme" }];
        }
    }
}
