using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Domain.Jobs;
using Monolith.Tests.Hosting;
using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Worker.Engine;

/// <summary>
/// A node presumed dead that comes back must not overwrite the outcome of the run that replaced it. On an API-only
/// node nothing runs the job, so the test plays both nodes through JobStore.
/// </summary>
public sealed class FencingTests(ApiOnlyFactory app) : IClassFixture<ApiOnlyFactory>
{
    [Fact]
    public async Task StaleAttempt_CannotWriteProgressOrOutcome_AfterItsJobWasRecovered()
    {
        var client = await app.CreateTenantClientAsync();
        var job = await client.SubmitJobAsync("noop", new { }, new { priority = 100 }); // first in line
        var ticket = Guid.NewGuid();
        using var scope = app.Services.CreateScope();
        var store = scope.ServiceProvider.GetRequiredService<JobStore>();

        var claims = app.Services.GetRequiredService<JobClaims>();
        var stale = Assert.Single(await claims.ClaimAsync(["default"], 1, "node-a", ticket, "unused", null, Guid.NewGuid(), 0, CancellationToken.None),
            j => j.Id == job.Id);
        var current = Assert.Single(await store.ReclaimAsync(ticket, "node-b", CancellationToken.None));

        Assert.NotEqual(stale.LeaseToken, current.LeaseToken);
        Assert.Equal(2, current.Attempt);
        Assert.Empty(await store.ReportProgressAsync([new ProgressReport(job.Id, stale.LeaseToken!.Value, 50, "stale")], CancellationToken.None));
        Assert.False(await store.FinishAttemptAsync(stale, new AttemptResult(JobState.Failed, "failed", "stale node"), CancellationToken.None));
        Assert.True(await store.FinishAttemptAsync(current, new AttemptResult(JobState.Succeeded, "succeeded"), CancellationToken.None));

        var final = await client.GetJobAsync(job.Id);
        Assert.Equal("succeeded", final.State);
        Assert.Null(final.LastError);
        Assert.Equal(["lost", "succeeded"], final.Attempts.Select(a => a.Outcome));
        Assert.Equal(["node-a", "node-b"], final.Attempts.Select(a => a.Node));
    }
}
