using System.Net;
using System.Text;

namespace Monolith.Tests.Contract;

/// <summary>
/// The contract check itself, on answers made up to break the service's real document in one way each: so that a
/// check that let everything through (and so every contract test) cannot go unnoticed.
/// </summary>
public sealed class ContractCheckTests(ContractFactory app) : IClassFixture<ContractFactory>
{
    private const string Job = """
        {"id":"01936b2e-3c4d-7e5f-8a9b-0c1d2e3f4a5b","type":"noop","queue":"default","priority":0,"state":"queued","attempt":0,
         "maxAttempts":3,"progress":null,"lastError":null,"attempts":[],"result":null,"createdAt":"2026-12-06T05:00:00+00:00",
         "scheduledAt":"2026-12-06T05:00:00+00:00","startedAt":null,"finishedAt":null,"cancelRequestedAt":null,"resultExpiresAt":null,
         "resultExpired":false,"callbackUrl":null,"uniqueKey":"report:1","uniqueScope":"until_executed"}
        """;

    [Fact]
    public async Task OperationsAreFound_ByMethodAndPath_LiteralSegmentsFirst()
    {
        var contract = (await app.ContractAsync())!;
        Assert.Equal("TopNames", contract.Find("GET", "/v1/names/top")?.OperationId);
        Assert.Equal("NameByYear", contract.Find("GET", "/v1/names/Olivia")?.OperationId);
        Assert.Equal("GetJob", contract.Find("GET", $"/v1/jobs/{Guid.NewGuid()}")?.OperationId);
        Assert.Equal("SubmitJobBatch", contract.Find("POST", "/v1/jobs/batch")?.OperationId);
        Assert.Null(contract.Find("GET", "/v1/jobs/not-a-uuid"));
        Assert.Null(contract.Find("PUT", "/v1/jobs"));
        Assert.Null(contract.Find("GET", "/health/live"));
    }

    [Fact]
    public async Task AJobAsDocumented_Passes()
    {
        Assert.Empty(await CheckAsync("GetJob", HttpStatusCode.OK, Job));
        Assert.Empty(await CheckAsync("GetJob", HttpStatusCode.OK, Job.Replace("\"progress\":null", "\"progress\":{\"percent\":40,\"message\":null}")));
    }

    [Theory]
    [InlineData("\"state\":\"queued\"", "\"state\":\"sideways\"")] // not one of the states
    [InlineData("\"id\":\"01936b2e-3c4d-7e5f-8a9b-0c1d2e3f4a5b\",", "")] // a required property missing
    [InlineData("\"progress\":null", "\"progress\":40")] // neither null nor a progress object
    [InlineData("\"attempts\":[]", "\"attempts\":null")] // a list that is never null
    [InlineData("\"callbackUrl\":null", "\"callbackUrl\":null,\"extra\":1")] // a property the document does not list
    public async Task AJobThatBreaksItsSchema_IsAViolation(string documented, string broken)
    {
        var violations = await CheckAsync("GetJob", HttpStatusCode.OK, Job.Replace(documented, broken));
        Assert.Contains(violations, v => v.Contains("does not match its schema", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnUndocumentedStatus_OrMediaType_OrMissingBody_IsAViolation()
    {
        Assert.Contains(await CheckAsync("GetJob", HttpStatusCode.InternalServerError, "{\"title\":\"x\"}", "application/problem+json"),
            v => v.Contains("500 is not a documented answer", StringComparison.Ordinal));
        Assert.Contains(await CheckAsync("GetJob", HttpStatusCode.OK, "<job/>", "application/xml"),
            v => v.Contains("documented: application/json", StringComparison.Ordinal));
        Assert.Contains(await CheckAsync("GetJob", HttpStatusCode.OK, null), v => v.Contains("none was sent", StringComparison.Ordinal));
        Assert.Empty(await CheckAsync("DeleteJob", HttpStatusCode.NoContent, null));
        Assert.Empty(await CheckAsync("GetUploadContent", HttpStatusCode.OK, "%PDF", "application/pdf"));
    }

    private async Task<IReadOnlyList<string>> CheckAsync(string operationId, HttpStatusCode status, string? body, string mediaType = "application/json")
    {
        var contract = (await app.ContractAsync())!;
        var operation = contract.Operations.Single(o => o.OperationId == operationId);
        using var response = new HttpResponseMessage(status);
        if (body is not null) response.Content = new StringContent(body, Encoding.UTF8, mediaType);
        return await contract.CheckAsync(operation, new HttpMethod(operation.Method), response);
    }
}
