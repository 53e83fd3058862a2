using System.Net;
using System.Net.Http.Json;
using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Features.Jobs;

public sealed class TenantIsolationTests(MonolithFactory app) : IClassFixture<MonolithFactory>
{
    [Fact]
    public async Task OtherTenantsJob_IsNotFound_ForEveryAction()
    {
        var alice = await app.CreateTenantClientAsync();
        var bob = await app.CreateTenantClientAsync();
        var job = await alice.SubmitJobAsync("noop", new { }, new { delaySeconds = 3600 });

        using var get = await bob.GetAsync($"/v1/jobs/{job.Id}");
        using var cancel = await bob.PostAsync($"/v1/jobs/{job.Id}/cancel", null);
        using var retry = await bob.PostAsync($"/v1/jobs/{job.Id}/retry", null);
        var list = await bob.GetFromJsonAsync<JobPageDto>("/v1/jobs", JobClientExtensions.Json);

        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, cancel.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, retry.StatusCode);
        Assert.DoesNotContain(list!.Items, j => j.Id == job.Id);
        Assert.Equal("scheduled", (await alice.GetJobAsync(job.Id)).State); // bob's cancel changed nothing
    }

    [Fact]
    public async Task Admin_SeesEveryTenantsJob()
    {
        var alice = await app.CreateTenantClientAsync();
        using var admin = app.CreateAdminClient();
        var job = await alice.SubmitJobAsync("noop", new { });

        Assert.Equal(job.Id, (await admin.GetJobAsync(job.Id)).Id);
    }
}
