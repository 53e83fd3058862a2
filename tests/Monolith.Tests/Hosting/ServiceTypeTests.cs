using System.Net;
using System.Net.Http.Json;
using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Hosting;

public sealed class WorkerOnlyFactory : MonolithFactory
{
    protected override Dictionary<string, string?> Settings => new(base.Settings) { ["SERVICE_TYPE"] = "worker" };
}

public sealed class ApiOnlyFactory : MonolithFactory
{
    protected override Dictionary<string, string?> Settings => new(base.Settings) { ["SERVICE_TYPE"] = "api" };
}

public sealed class WorkerOnlyTests(WorkerOnlyFactory app) : IClassFixture<WorkerOnlyFactory>
{
    [Theory]
    [InlineData("/health/live")]
    [InlineData("/health/ready")]
    [InlineData("/metrics")]
    public async Task WorkerNode_ServesHealthAndMetrics(string path)
    {
        using var client = app.CreateClient();

        using var response = await client.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("/v1/jobs")]
    [InlineData("/swagger/index.html")]
    [InlineData("/dashboard")]
    [InlineData("/dashboard/login")]
    public async Task WorkerNode_ServesNoApi(string path)
    {
        using var client = app.CreateAdminClient();

        using var response = await client.GetAsync(path);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}

public sealed class ApiOnlyTests(ApiOnlyFactory app) : IClassFixture<ApiOnlyFactory>
{
    [Fact]
    public async Task ApiNode_AcceptsJobs_ButRunsNone()
    {
        var client = await app.CreateTenantClientAsync();

        var job = await client.SubmitJobAsync("noop", new { });

        // Nothing happening is the point: the service's own wait holds the answer until the job finishes or 1 s passes
        // (a node that runs jobs finishes a noop within milliseconds of the submit, so it would answer at once).
        var held = await client.GetFromJsonAsync<JobDto>($"/v1/jobs/{job.Id}?wait=1", JobClientExtensions.Json);
        Assert.Equal("queued", held!.State);
    }

    [Fact]
    public async Task ApiNode_ServesSwaggerUi()
    {
        using var client = app.CreateClient();

        using var ui = await client.GetAsync("/swagger/index.html");
        using var document = await client.GetAsync("/swagger/v1/swagger.json");

        Assert.Equal(HttpStatusCode.OK, ui.StatusCode);
        var json = await document.Content.ReadAsStringAsync();
        Assert.Contains("\"/v1/jobs\"", json);
        Assert.Contains("X-Api-Key", json);
    }
}

public sealed class UnknownServiceTypeTests
{
    private sealed class BogusFactory : MonolithFactory
    {
        protected override Dictionary<string, string?> Settings => new(base.Settings) { ["SERVICE_TYPE"] = "bogus" };
    }

    [Fact]
    public async Task UnknownServiceType_StopsStartUp_WithAClearMessage()
    {
        await using var factory = new BogusFactory();

        var error = await Assert.ThrowsAnyAsync<Exception>(((IAsyncLifetime)factory).InitializeAsync);

        Assert.Contains("SERVICE_TYPE 'bogus' is not known", error.ToString());
    }
}
