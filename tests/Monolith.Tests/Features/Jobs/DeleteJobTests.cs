using System.Net;
using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Features.Jobs;

/// <summary>DELETE /v1/jobs/{id}: what the dashboard's delete does, through the API.</summary>
public sealed class DeleteJobTests(MonolithFactory app) : IClassFixture<MonolithFactory>
{
    [Fact]
    public async Task Delete_RemovesAFinishedJobAndItsAttempts()
    {
        var client = await app.CreateTenantClientAsync();
        var job = await client.SubmitJobAsync("noop", new { });
        await client.WaitForStateAsync(job.Id, "succeeded");

        using var response = await client.DeleteAsync($"/v1/jobs/{job.Id}");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        using var gone = await client.GetAsync($"/v1/jobs/{job.Id}");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        await using var db = app.CreateDbContext();
        Assert.DoesNotContain(db.JobAttempts, a => a.JobId == job.Id);
    }

    [Fact]
    public async Task Delete_IsAConflict_WhileTheJobWaits()
    {
        var client = await app.CreateTenantClientAsync();
        var job = await client.SubmitJobAsync("noop", new { }, new { delaySeconds = 3600 });

        using var response = await client.DeleteAsync($"/v1/jobs/{job.Id}");

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("scheduled", (await client.GetJobAsync(job.Id)).State);
    }

    [Fact]
    public async Task Delete_IsNotFound_ForAnotherTenantsJob()
    {
        var owner = await app.CreateTenantClientAsync();
        var other = await app.CreateTenantClientAsync();
        var job = await owner.SubmitJobAsync("noop", new { });
        await owner.WaitForStateAsync(job.Id, "succeeded");

        using var response = await other.DeleteAsync($"/v1/jobs/{job.Id}");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("succeeded", (await owner.GetJobAsync(job.Id)).State);
    }
}
