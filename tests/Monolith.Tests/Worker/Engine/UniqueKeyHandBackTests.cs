using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Domain.Jobs;
using Monolith.Tests.Hosting;
using Monolith.Tests.Infrastructure;
using Monolith.Worker.Engine;

namespace Monolith.Tests.Worker.Engine;

/// <summary>
/// An until_started job leaves its key's window when it is claimed, so a new job may take the key; if the claim is then
/// handed back unstarted (a stopping node's buffer), the job goes back to waiting without its key instead of breaking
/// ux_jobs_unique_key. On an API-only node nothing runs the jobs: the test claims and hands back as a node would.
/// </summary>
public sealed class UniqueKeyHandBackTests(ApiOnlyFactory app) : IClassFixture<ApiOnlyFactory>
{
    [Fact]
    public async Task AnUntilStartedJobHandedBackAfterANewJobTookItsKey_WaitsAgainWithoutTheKey()
    {
        var client = await app.CreateTenantClientAsync();
        var body = new { type = "noop", payload = new { }, priority = 100, uniqueKey = "refresh:7", uniqueScope = "until_started" };
        var first = await client.SubmitJobAsync("noop", new { }, new { priority = 100, uniqueKey = "refresh:7", uniqueScope = "until_started" });
        var claims = app.Services.GetRequiredService<JobClaims>();
        var claimed = Assert.Single(await claims.ClaimAsync(["default"], 10, "node-a", Guid.NewGuid(), "unused", null, Guid.NewGuid(), 0, CancellationToken.None),
            j => j.Id == first.Id);
        using var afterClaim = await client.PostAsJsonAsync("/v1/jobs", body);
        var second = (await afterClaim.Content.ReadFromJsonAsync<JobDto>(JobClientExtensions.Json))!;

        var handedBack = await claims.HandBackAsync([claimed], attemptUsed: false, DispatchTickets.WakeChannel, CancellationToken.None);
        using var afterHandBack = await client.PostAsJsonAsync("/v1/jobs", body);
        var answered = (await afterHandBack.Content.ReadFromJsonAsync<JobDto>(JobClientExtensions.Json))!;

        Assert.Equal(HttpStatusCode.Accepted, afterClaim.StatusCode);
        Assert.Equal(1, handedBack);
        await using var db = app.CreateDbContext();
        var rows = await db.Jobs.AsNoTracking().Where(j => j.Id == first.Id || j.Id == second.Id).ToDictionaryAsync(j => j.Id);
        Assert.Equal((JobState.Queued, null), (rows[first.Id].State, rows[first.Id].UniqueKey));
        Assert.Equal((JobState.Queued, "refresh:7"), (rows[second.Id].State, rows[second.Id].UniqueKey));
        Assert.Equal((HttpStatusCode.OK, second.Id), (afterHandBack.StatusCode, answered.Id));
    }
}
