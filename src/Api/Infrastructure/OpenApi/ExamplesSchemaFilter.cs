using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Monolith.Api.Features.Admin;
using Monolith.Api.Features.Jobs;
using Monolith.Api.Features.Syncs;
using Monolith.Api.Features.Transfers;
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
        else if (context.Type == typeof(CreateTransferRequest))
        {
            concrete.Examples = [new JsonObject
            {
                ["source"] = new JsonObject { ["type"] = "upload", ["uploadId"] = "01936b2e-3c4d-7e5f-8a9b-0c1d2e3f4a5b" },
                ["destination"] = new JsonObject
                {
                    ["type"] = "http",
                    ["url"] = "https://benefits.example/inbox",
                    ["method"] = "POST",
                    ["headers"] = new JsonObject { ["Authorization"] = "Bearer ..." },
                    ["form"] = new JsonObject { ["kind"] = "claim" },
                },
                ["metadata"] = new JsonObject { ["caseNumber"] = "C-42" },
            }];
        }
        else if (context.Type == typeof(CreateSyncRequest))
        {
            concrete.Examples = [new JsonObject
            {
                ["snapshot"] = "customers",
                ["source"] = new JsonObject
                {
                    ["url"] = "https://api.example.com/customers",
                    ["headers"] = new JsonObject { ["Authorization"] = "Bearer abc" },
                    ["pagination"] = new JsonObject { ["type"] = "cursor", ["nextCursorPath"] = "meta.next" },
                    ["itemsPath"] = "data",
                    ["idPath"] = "id",
                    ["rateLimitPerSecond"] = 5,
                },
            }];
        }
    }
}
