using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Worker.Engine;

namespace Monolith.Tests.Contract;

/// <summary>
/// The OpenAPI document states what the server enforces: required fields, enums, limits, nullability, the error
/// answers of each operation, servers, and a payload schema per job type. Each fact checked here is read by the
/// document from where it lives (validators, enums, endpoint metadata), so these tests fail when that link breaks.
/// </summary>
public sealed class ContractDocumentTests(ContractFactory app) : IClassFixture<ContractFactory>
{
    [Fact]
    public async Task Servers_NameWhereTheDocumentWasServed()
    {
        var document = await DocumentAsync();
        var servers = document["servers"]?.AsArray();
        Assert.NotNull(servers);
        Assert.Equal("http://localhost", servers!.Single()!["url"]!.GetValue<string>());
    }

    [Fact]
    public async Task EveryOperation_DocumentsItsErrorAnswers_AsProblemDetails()
    {
        var contract = (await app.ContractAsync())!;
        var missing = new List<string>();
        foreach (var operation in contract.Operations)
        {
            var expected = new List<string> { "401", "429", "503" };
            if (operation.Node["tags"]?.AsArray().Any(t => t!.GetValue<string>() == "Admin") == true || operation.OperationId is "PauseQueue" or "ResumeQueue")
            {
                expected.Add("403");
            }
            if (operation.RequestBody?["content"]?["application/json"] is not null) expected.AddRange(["400", "413", "415"]);
            if (operation.Parameters.Any()) expected.Add("400");
            foreach (var status in expected.Distinct())
            {
                if (operation.Node["responses"]?[status] is null) missing.Add($"{operation} has no {status}");
            }
            foreach (var (status, response) in operation.Node["responses"]!.AsObject())
            {
                // Every error is a problem body, but a 416 (the framework's range answer, with a Content-Range and no body).
                if (status[0] is '4' or '5' && response?["content"]?["application/problem+json"] is null && status != "416")
                {
                    missing.Add($"{operation} {status} is not a problem+json body");
                }
                if (status[0] == '2' && status != "204" && response?["content"] is not JsonObject { Count: > 0 })
                {
                    missing.Add($"{operation} {status} documents no body");
                }
            }
            if (!operation.Node["responses"]!.AsObject().Any(r => r.Key[0] == '2')) missing.Add($"{operation} documents no success");
        }
        Assert.True(missing.Count == 0, string.Join(Environment.NewLine, missing));
    }

    [Fact]
    public async Task ResponseSchemas_RequireEveryProperty_AndSayWhichMayBeNull()
    {
        var schemas = await SchemasAsync();
        var job = schemas["JobResponse"]!;
        Assert.Equal(job["properties"]!.AsObject().Select(p => p.Key).Order(), Required(job).Order());
        Assert.True(AllowsNull(job["properties"]!["progress"]!), "JobResponse.progress is null until a job reports progress");
        Assert.True(AllowsNull(job["properties"]!["lastError"]!));
        Assert.False(AllowsNull(job["properties"]!["state"]!));
        Assert.False(AllowsNull(job["properties"]!["attempts"]!));
        foreach (var name in new[] { "DatasetResponse", "TransferResponse", "SyncResponse", "UploadResponse", "QueueListResponse", "CreatedTenantResponse" })
        {
            Assert.Equal(schemas[name]!["properties"]!.AsObject().Select(p => p.Key).Order(), Required(schemas[name]!).Order());
        }
    }

    [Fact]
    public async Task States_AndKinds_AreEnums()
    {
        var schemas = await SchemasAsync();
        Assert.Equal(["scheduled", "queued", "running", "retrying", "succeeded", "failed", "cancelled"], Enum(schemas["JobResponse"]!["properties"]!["state"]!));
        Assert.Equal(["succeeded", "failed", "cancelled", "timed_out", "lost"], Enum(schemas["JobAttemptResponse"]!["properties"]!["outcome"]!));
        Assert.Equal(["uploaded", "processing", "completed", "failed"], Enum(schemas["DatasetResponse"]!["properties"]!["state"]!));
        Assert.Equal(["queued", "running", "retrying", "completed", "failed", "cancelled"], Enum(schemas["TransferResponse"]!["properties"]!["state"]!));
        Assert.Equal(["queued", "running", "completed", "failed", "cancelled"], Enum(schemas["SyncResponse"]!["properties"]!["state"]!));
        Assert.Equal(["upload", "url"], Enum(schemas["TransferSourceRequest"]!["properties"]!["type"]!));
        Assert.Equal(["http", "directory"], Enum(schemas["TransferDestinationRequest"]!["properties"]!["type"]!));
        Assert.Equal(["page", "cursor", "link"], Enum(schemas["SyncPaginationRequest"]!["properties"]!["type"]!));
        Assert.Equal(PublicJobTypes(), Enum(schemas["SubmitJobRequest"]!["properties"]!["type"]!));
        Assert.Equal(["critical", "default", "low"], Enum(schemas["SubmitJobRequest"]!["properties"]!["queue"]!));
    }

    [Fact]
    public async Task RequestSchemas_StateTheValidatorsRules()
    {
        var schemas = await SchemasAsync();
        var submit = schemas["SubmitJobRequest"]!;
        Assert.Equal(["payload", "type"], Required(submit).Order());
        Assert.Equal(("-100", "100"), Range(submit["properties"]!["priority"]!));
        Assert.Equal(("1", "100"), Range(submit["properties"]!["maxAttempts"]!));
        Assert.Equal(("1", "86400"), Range(submit["properties"]!["timeoutSeconds"]!));
        Assert.Equal(("0", "3600"), Range(submit["properties"]!["backoffSeconds"]!));
        var batch = schemas["SubmitJobBatchRequest"]!;
        Assert.Equal(["jobs"], Required(batch));
        Assert.Equal(1, batch["properties"]!["jobs"]!["minItems"]!.GetValue<int>());
        Assert.Equal(1000, batch["properties"]!["jobs"]!["maxItems"]!.GetValue<int>());
        var tenant = schemas["CreateTenantRequest"]!;
        Assert.Equal(["name"], Required(tenant));
        Assert.Equal(200, tenant["properties"]!["name"]!["maxLength"]!.GetValue<int>());
        Assert.Equal(1, tenant["properties"]!["name"]!["minLength"]!.GetValue<int>());
        Assert.Empty(Required(schemas["CreateApiKeyRequest"]!));
        Assert.Equal(200, schemas["CreateApiKeyRequest"]!["properties"]!["name"]!["maxLength"]!.GetValue<int>());
        Assert.Equal(["snapshot", "source"], Required(schemas["CreateSyncRequest"]!).Order());
        Assert.NotNull(schemas["CreateSyncRequest"]!["properties"]!["snapshot"]!["pattern"]);
        Assert.Equal(["idPath", "pagination", "url"], Required(schemas["SyncSourceRequest"]!).Order());
        Assert.Equal(("0.01", "1000"), Range(schemas["SyncSourceRequest"]!["properties"]!["rateLimitPerSecond"]!));
        Assert.Equal(["type"], Required(schemas["SyncPaginationRequest"]!));
        Assert.Equal(["destination", "source"], Required(schemas["CreateTransferRequest"]!).Order());
        Assert.Equal(["type"], Required(schemas["TransferSourceRequest"]!));
        Assert.DoesNotContain("uploadId", Required(schemas["TransferSourceRequest"]!)); // only for an upload source
    }

    [Fact]
    public async Task EachPublicJobType_HasItsPayloadSchema()
    {
        var schemas = await SchemasAsync();
        var submission = schemas["JobSubmission"]!;
        Assert.Equal("type", submission["discriminator"]!["propertyName"]!.GetValue<string>());
        var mapping = submission["discriminator"]!["mapping"]!.AsObject().ToDictionary(m => m.Key, m => m.Value!.GetValue<string>());
        Assert.Equal(PublicJobTypes().Order(), mapping.Keys.Order());
        foreach (var kind in new[] { "noop", "sleep", "fail", "http_request" }) Assert.Contains(kind, mapping.Keys);
        Assert.Equal(mapping.Values.Order(), submission["oneOf"]!.AsArray().Select(v => v!["$ref"]!.GetValue<string>()).Order());

        // Each type: every job's fields, and its type with its payload's schema (limits from the payload's validator).
        JsonObject Payload(string kind)
        {
            var variant = schemas[mapping[kind].Split('/')[^1]]!;
            Assert.Equal("#/components/schemas/SubmitJobRequest", variant["allOf"]![0]!["$ref"]!.GetValue<string>());
            var own = variant["allOf"]![1]!;
            Assert.Equal([kind], Enum(own["properties"]!["type"]!));
            Assert.Equal(["payload", "type"], Required(own).Order());
            return schemas[own["properties"]!["payload"]!["$ref"]!.GetValue<string>().Split('/')[^1]]!.AsObject();
        }
        var sleep = Payload("sleep");
        Assert.Equal(("0", "3600000"), Range(sleep["properties"]!["ms"]!));
        Assert.False(sleep["additionalProperties"]!.GetValue<bool>()); // payloads refuse unknown fields
        Assert.Equal(("0", "100"), Range(Payload("fail")["properties"]!["failTimes"]!));
        Assert.Equal(1000, Payload("noop")["properties"]!["echo"]!["maxLength"]!.GetValue<int>());
        Assert.Equal(("1", "300"), Range(Payload("http_request")["properties"]!["timeoutSeconds"]!));

        // Single and batch submissions refer to the union.
        var contract = (await app.ContractAsync())!;
        var submit = contract.Operations.Single(o => o.OperationId == "SubmitJob");
        Assert.Equal("#/components/schemas/JobSubmission", submit.RequestBody!["content"]!["application/json"]!["schema"]!["allOf"]![0]!["$ref"]!.GetValue<string>());
        Assert.Equal("#/components/schemas/JobSubmission", schemas["SubmitJobBatchRequest"]!["properties"]!["jobs"]!["items"]!["$ref"]!.GetValue<string>());
    }

    [Fact]
    public async Task QueryParameters_StateWhatIsRequired_AndTheirLimits()
    {
        var contract = (await app.ContractAsync())!;
        var top = contract.Operations.Single(o => o.OperationId == "TopNames");
        Assert.True(Parameter(top, "country")["required"]?.GetValue<bool>());
        Assert.True(Parameter(top, "year")["required"]?.GetValue<bool>());
        Assert.Equal(("1", "1000"), Range(Parameter(top, "limit")["schema"]!));
        Assert.Equal(["F", "M"], Enum(Parameter(top, "sex")["schema"]!));
        Assert.True(Parameter(contract.Operations.Single(o => o.OperationId == "NameByYear"), "country")["required"]?.GetValue<bool>());
        var list = contract.Operations.Single(o => o.OperationId == "ListJobs");
        Assert.Equal(["scheduled", "queued", "running", "retrying", "succeeded", "failed", "cancelled"], Enum(Parameter(list, "state")["schema"]!));
        Assert.Equal(("1", "200"), Range(Parameter(list, "limit")["schema"]!));
        var submit = contract.Operations.Single(o => o.OperationId == "SubmitJob");
        Assert.Equal(200, Parameter(submit, "Idempotency-Key")["schema"]!["maxLength"]!.GetValue<int>());
        Assert.Equal("0", Parameter(contract.Operations.Single(o => o.OperationId == "GetJob"), "wait")["schema"]!["minimum"]!.ToString());
    }

    /// <summary>The job types a client may submit, from the registry itself (internal ones, such as webhook deliveries, left out).</summary>
    private List<string?> PublicJobTypes() =>
        app.Services.GetRequiredService<JobTypeRegistry>().All.Where(t => !t.Defaults.Internal).Select(t => (string?)t.Kind).ToList();

    private async Task<JsonObject> DocumentAsync()
    {
        using var client = app.CreateClient();
        return JsonNode.Parse(await client.GetStringAsync("/swagger/v1/swagger.json"))!.AsObject();
    }

    private async Task<JsonObject> SchemasAsync() => (await DocumentAsync())["components"]!["schemas"]!.AsObject();

    private static JsonObject Parameter(OpenApiOperation operation, string name) =>
        operation.Parameters.SingleOrDefault(p => p["name"]!.GetValue<string>() == name) ?? throw new Xunit.Sdk.XunitException($"{operation} has no parameter {name}");

    private static List<string> Required(JsonNode schema) => schema["required"]?.AsArray().Select(r => r!.GetValue<string>()).ToList() ?? [];

    private static List<string?> Enum(JsonNode schema) => schema["enum"]?.AsArray().Where(v => v is not null).Select(v => v!.GetValue<string>()).ToList<string?>() ?? [];

    private static (string?, string?) Range(JsonNode schema) => (schema["minimum"]?.ToString(), schema["maximum"]?.ToString());

    private static bool AllowsNull(JsonNode schema) =>
        schema["nullable"]?.GetValue<bool>() == true
        || schema["oneOf"]?.AsArray().Any(s => s!["type"]?.ToString() == "null") == true
        || schema["anyOf"]?.AsArray().Any(s => s!["type"]?.ToString() == "null") == true;
}
