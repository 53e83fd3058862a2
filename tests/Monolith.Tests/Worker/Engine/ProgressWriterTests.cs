using Microsoft.Extensions.DependencyInjection;
using Monolith.Tests.Infrastructure;
using Monolith.Tests.Processes;
using Monolith.Worker.Engine;

namespace Monolith.Tests.Worker.Engine;

/// <summary>
/// A node whose progress writes of one job are at least three seconds apart, so that which report is pending and
/// which is written does not depend on how fast the machine is.
/// </summary>
public sealed class ProgressWriterFactory : MonolithFactory
{
    public const int IntervalMs = 3000;

    protected override Dictionary<string, string?> Settings => new(base.Settings)
    {
        ["Worker:ProgressIntervalMs"] = IntervalMs.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}

/// <summary>
/// Progress never makes a handler wait: a report returns at once, the latest report of each job wins, one statement
/// writes the reports of every job that has one due, and the lease fence still stops an attempt that was taken over.
/// Most tests feed the node's <see cref="ProgressWriter"/> directly with jobs the test claimed itself (no worker of
/// the node runs them); the last runs a <c>sleep</c> job through the engine.
/// </summary>
public sealed class ProgressWriterTests(ProgressWriterFactory app) : IClassFixture<ProgressWriterFactory>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task AThousandReports_ReturnAtOnce_WhileTheWriteWaitsForTheDatabase_AndOnlyTheLatestIsWritten()
    {
        var client = await app.CreateTenantClientAsync();
        var job = Assert.Single(await ClaimedByTest.ClaimAsync(app, client, 1));
        var writer = app.Services.GetRequiredService<ProgressWriter>();
        var leaseLost = 0;
        using var progress = writer.Register(job, () => Interlocked.Increment(ref leaseLost));
        var context = new JobContext(job, progress.Report);
        var roundsBefore = writer.Rounds;

        await using (await ClaimedByTest.LockRowAsync(app.DatabaseUrl, job.Id))
        {
            // The first report is written at once: its statement now waits on the row the test holds.
            Assert.True(context.ReportProgressAsync(0, "report 0", CancellationToken.None).IsCompletedSuccessfully);
            await ClaimedByTest.WaitUntilStatementWaitsAsync(app.DatabaseUrl, "progress_percent = r.percent");
            for (var i = 1; i <= 1000; i++)
            {
                Assert.True(context.ReportProgressAsync(i / 10, $"report {i}", CancellationToken.None).IsCompletedSuccessfully,
                    $"Report {i} did not return at once while the database held the write back.");
            }
            Assert.Equal(roundsBefore + 1, writer.Rounds);
        }

        var seen = await WaitForProgressAsync(client, job.Id, p => p.Message == "report 1000");
        Assert.Equal(100, seen.Percent);
        Assert.Equal(roundsBefore + 2, writer.Rounds); // 1,001 reports: the first, then the latest of the others
        Assert.Equal(0, leaseLost);
    }

    [Fact]
    public async Task AnAttemptWhoseLeaseWasTakenAway_IsToldAtItsNextReport_AndItsReportIsNotWritten()
    {
        var client = await app.CreateTenantClientAsync();
        var jobs = await ClaimedByTest.ClaimAsync(app, client, 2);
        var writer = app.Services.GetRequiredService<ProgressWriter>();
        var lost = jobs.Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();
        using var taken = writer.Register(jobs[0], () => lost[0].TrySetResult());
        using var kept = writer.Register(jobs[1], () => lost[1].TrySetResult());
        // Another node recovered the first job: it runs there under a new lease.
        await ProcessTestKit.ScalarAsync<int>(app.DatabaseUrl,
            "UPDATE jobs SET lease_token = gen_random_uuid(), attempt = attempt + 1, node = 'other-node' WHERE id = @id RETURNING 1",
            ("id", jobs[0].Id));

        taken.Report(40, "stale");
        kept.Report(40, "current");

        await lost[0].Task.WaitAsync(Patience);
        Assert.Equal("current", (await WaitForProgressAsync(client, jobs[1].Id, p => p.Percent == 40)).Message);
        Assert.Null((await client.GetJobAsync(jobs[0].Id)).Progress);
        Assert.False(lost[1].Task.IsCompleted);
    }

    [Fact]
    public async Task APendingReport_IsDroppedWhenItsAttemptEnds()
    {
        var client = await app.CreateTenantClientAsync();
        var jobs = await ClaimedByTest.ClaimAsync(app, client, 2);
        var writer = app.Services.GetRequiredService<ProgressWriter>();
        var ending = writer.Register(jobs[0], () => { });
        using var running = writer.Register(jobs[1], () => { });
        // First reports are written at once; the running job's after the ending one's, so its next write is due no
        // earlier than the ending job's would be.
        ending.Report(10, "first");
        await WaitForProgressAsync(client, jobs[0].Id, p => p.Percent == 10);
        running.Report(10, "first");
        await WaitForProgressAsync(client, jobs[1].Id, p => p.Percent == 10);

        ending.Report(50, "pending when the attempt ended");
        running.Report(50, "written later");
        ending.Dispose();
        ending.Report(60, "after the attempt ended");

        await WaitForProgressAsync(client, jobs[1].Id, p => p.Percent == 50);
        var ended = (await client.GetJobAsync(jobs[0].Id)).Progress!;
        Assert.Equal((10, "first"), (ended.Percent, ended.Message));
    }

    [Fact]
    public async Task ASleepJobsTenReports_AreOneWrite_AndItsOutcomeIsWhatStays()
    {
        var client = await app.CreateTenantClientAsync();
        var writer = app.Services.GetRequiredService<ProgressWriter>();
        var roundsBefore = writer.Rounds;

        var job = await client.SubmitJobAsync("sleep", new { ms = 1000 }); // ten reports within one interval
        var done = await client.WaitForStateAsync(job.Id, "succeeded");

        Assert.Equal(roundsBefore + 1, writer.Rounds);
        // The first report was written at once; the nine later ones replaced each other and the last was still pending
        // when the attempt ended, so it was dropped. The outcome set the final percent.
        Assert.Equal((100, "slept 100 of 1000 ms"), (done.Progress!.Percent, done.Progress.Message));
    }

    /// <summary>Polls <c>GET /v1/jobs/{id}</c> until its progress satisfies <paramref name="done"/>.</summary>
    private static async Task<ProgressDto> WaitForProgressAsync(HttpClient client, Guid id, Func<ProgressDto, bool> done)
    {
        ProgressDto? progress = null;
        await ProcessTestKit.WaitUntilAsync($"job {id}'s progress is as expected", Patience,
            async () => (progress = (await client.GetJobAsync(id)).Progress) is { } p && done(p),
            () => Task.FromResult($"it is {progress?.ToString() ?? "none"}"));
        return progress!;
    }
}
