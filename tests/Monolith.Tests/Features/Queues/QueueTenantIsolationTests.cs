using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Features.Queues;

/// <summary>A tenant's figures count its own jobs only; the admin's count every tenant's (a database of this class's own).</summary>
public sealed class QueueTenantIsolationTests(MonolithFactory app) : IClassFixture<MonolithFactory>
{
    [Fact]
    public async Task TenantSeesOnlyItsOwnJobs_AdminSeesTheSum()
    {
        var alice = await app.CreateTenantClientAsync();
        var bob = await app.CreateTenantClientAsync();
        using var admin = app.CreateAdminClient();
        var aliceDone = new[]
        {
            await alice.SubmitJobAsync("noop", new { }), await alice.SubmitJobAsync("noop", new { }),
            await alice.SubmitJobAsync("fail", new { failTimes = 1, retryable = false }),
        };
        await alice.SubmitJobAsync("noop", new { }, new { delaySeconds = 3600 });
        await alice.SubmitJobAsync("noop", new { }, new { queue = "critical", delaySeconds = 3600 });
        var bobDone = await bob.SubmitJobAsync("noop", new { }, new { queue = "low" });
        await bob.SubmitJobAsync("noop", new { }, new { delaySeconds = 3600 });
        foreach (var job in aliceDone) await alice.WaitForStateAsync(job.Id, job.Type == "fail" ? "failed" : "succeeded");
        await bob.WaitForStateAsync(bobDone.Id, "succeeded");

        var aliceSees = (await alice.GetQueuesAsync()).Items.ToDictionary(q => q.Name, q => q.Counts);
        var bobSees = (await bob.GetQueuesAsync()).Items.ToDictionary(q => q.Name, q => q.Counts);
        var adminSees = (await admin.GetQueuesAsync()).Items.ToDictionary(q => q.Name, q => q.Counts);

        Assert.Equal(new CountsDto(Scheduled: 1, 0, 0, 0, Succeeded: 2, Failed: 1, 0), aliceSees["default"]);
        Assert.Equal(new CountsDto(Scheduled: 1, 0, 0, 0, 0, 0, 0), aliceSees["critical"]);
        Assert.Equal(CountsDto.Zero, aliceSees["low"]);
        Assert.Equal(new CountsDto(Scheduled: 1, 0, 0, 0, 0, 0, 0), bobSees["default"]);
        Assert.Equal(CountsDto.Zero, bobSees["critical"]);
        Assert.Equal(new CountsDto(0, 0, 0, 0, Succeeded: 1, 0, 0), bobSees["low"]);
        Assert.Equal(new CountsDto(Scheduled: 2, 0, 0, 0, Succeeded: 2, Failed: 1, 0), adminSees["default"]);
        Assert.Equal(new CountsDto(Scheduled: 1, 0, 0, 0, 0, 0, 0), adminSees["critical"]);
        Assert.Equal(new CountsDto(0, 0, 0, 0, Succeeded: 1, 0, 0), adminSees["low"]);
        Assert.Equal(["critical", "default", "low"], aliceSees.Keys.Order());
        Assert.Equal(["critical", "default", "low"], bobSees.Keys.Order());
    }
}
