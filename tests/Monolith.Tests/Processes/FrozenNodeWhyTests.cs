using Monolith.Tests.Features.Jobs;
using Monolith.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Monolith.Tests.Processes;

/// <summary>
/// GET /v1/jobs/{id}/why of a job whose node stopped checking in: a worker process frozen (SIGSTOP) while it runs the job.
/// With no other worker, nothing recovers it, so the answer holds still while it is read.
/// </summary>
[Collection("Processes")]
public sealed class FrozenNodeWhyTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ARunningJobOfAFrozenNode_IsNodeNotCheckingIn_WithTheNodeItsLastCheckinAndTheRecoveryBound()
    {
        await using var group = await ProcessGroup.CreateAsync("frozen-why");
        await group.StartAsync(new NodeSpec("api", "api-1"), new NodeSpec("worker", "worker-1"));
        await output.WithLogsOnFailureAsync(group, async () =>
        {
            using var client = group["api-1"].CreateClient();
            var job = await client.SubmitJobAsync("sleep", new { ms = 600_000 });
            await client.WaitForStateAsync(job.Id, "running");
            var live = await client.WhyAsync(job.Id);

            var frozen = group["worker-1"];
            await frozen.SignalAsync(ServiceProcess.SIGSTOP);
            WhyDto why = live;
            try
            {
                await ProcessTestKit.WaitUntilAsync("why names the frozen node", TimeSpan.FromSeconds(60), async () =>
                {
                    why = await client.WhyAsync(job.Id);
                    return why.Blockers.Count > 0;
                }, () => Task.FromResult(System.Text.Json.JsonSerializer.Serialize(why)), TimeSpan.FromMilliseconds(250));
            }
            finally
            {
                await frozen.SignalAsync(ServiceProcess.SIGCONT);
            }

            Assert.Equal(("worker-1", true), (live.Running!.Node, live.Running.NodeLive));
            Assert.Empty(live.Blockers);
            var blocker = Assert.Single(why.Blockers);
            Assert.Equal(("node_not_checking_in", "worker-1"), (blocker.Kind, blocker.Node));
            Assert.Equal(why.Running!.NodeLastCheckin, blocker.Since);
            Assert.True(blocker.Until > blocker.Since, $"recovery expected by {blocker.Until}, last check-in {blocker.Since}");
            Assert.False(why.Running.NodeLive);
            Assert.Equal("running", why.State);
        });
    }
}
