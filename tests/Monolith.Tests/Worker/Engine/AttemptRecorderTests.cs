using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Domain.Jobs;
using Monolith.Domain.Persistence;
using Monolith.Tests.Infrastructure;
using Monolith.Worker.Engine;
using Npgsql;

namespace Monolith.Tests.Worker.Engine;

/// <summary>A node whose readiness turns red after one second of outcomes waiting to be written.</summary>
public sealed class RecorderFactory : MonolithFactory
{
    protected override Dictionary<string, string?> Settings => new(base.Settings)
    {
        ["Worker:OutcomeStallSeconds"] = "1",
    };
}

/// <summary>
/// The outcome writer against the real database, fed directly: outcomes the executor would never produce (text
/// PostgreSQL refuses, a row the database refuses to change) must not stop it from recording every other outcome.
/// The jobs are submitted for later and claimed by the test itself, so no worker of the node runs them.
/// </summary>
public sealed class AttemptRecorderTests(RecorderFactory app) : IClassFixture<RecorderFactory>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task ABatchWithUnstorableOutcomes_RecordsTheOthers_AndFailsTheBadOnesAlone()
    {
        var client = await app.CreateTenantClientAsync();
        var jobs = await ClaimAsync(client, 6);
        var recorder = app.Services.GetRequiredService<AttemptRecorder>();
        var ok = new AttemptResult(JobState.Succeeded, "succeeded", ResultJson: """{"fine":true}""");

        // The first outcome's write waits on a row lock the test holds, so the next five queue up behind it and are
        // written as one batch when the lock goes.
        Task<bool> first, nul, surrogate;
        Task<bool>[] good;
        await using (var blocker = await LockRowAsync(jobs[0].Id))
        {
            first = recorder.RecordAsync(jobs[0], ok, CancellationToken.None);
            await WaitUntilOutcomeWriteWaitsAsync();
            nul = recorder.RecordAsync(jobs[1], new AttemptResult(JobState.Failed, "failed", "vendor said Bad\0Thing"), CancellationToken.None);
            good = [recorder.RecordAsync(jobs[2], ok, CancellationToken.None), recorder.RecordAsync(jobs[3], ok, CancellationToken.None)];
            surrogate = recorder.RecordAsync(jobs[4], new AttemptResult(JobState.Succeeded, "succeeded", ResultJson: "{\"half\":\"\ud800\"}"), CancellationToken.None);
            good = [.. good, recorder.RecordAsync(jobs[5], ok, CancellationToken.None)];
        }

        Assert.All(await Task.WhenAll(new[] { first, nul, surrogate }.Concat(good)).WaitAsync(Patience), Assert.True);
        foreach (var job in new[] { jobs[0], jobs[2], jobs[3], jobs[5] })
        {
            var seen = await client.GetJobAsync(job.Id);
            Assert.Equal("succeeded", seen.State);
            Assert.True(seen.Result!.Value.GetProperty("fine").GetBoolean());
        }
        foreach (var job in new[] { jobs[1], jobs[4] })
        {
            var seen = await client.GetJobAsync(job.Id);
            Assert.Equal("failed", seen.State);
            Assert.StartsWith("The outcome could not be stored: ", seen.LastError);
            Assert.Equal(seen.LastError, Assert.Single(seen.Attempts).Error);
            Assert.DoesNotContain("Bad", seen.LastError); // the refused text itself is not repeated
        }
    }

    [Fact]
    public async Task AnOutcomeTheDatabaseRefusesEvenAsAFailure_IsGivenBack_AndTheOthersAreStillRecorded()
    {
        var client = await app.CreateTenantClientAsync();
        var jobs = await ClaimAsync(client, 2);
        var recorder = app.Services.GetRequiredService<AttemptRecorder>();
        var ok = new AttemptResult(JobState.Succeeded, "succeeded");

        await ExecuteAsync($"""
            CREATE FUNCTION refuse_outcome() RETURNS trigger LANGUAGE plpgsql AS
                $$ BEGIN RAISE EXCEPTION 'this row may not change' USING ERRCODE = 'check_violation'; END $$;
            CREATE TRIGGER refuse_outcome BEFORE UPDATE ON jobs FOR EACH ROW
                WHEN (OLD.id = '{jobs[0].Id}' AND NEW.state <> 'running') EXECUTE FUNCTION refuse_outcome();
            """);
        try
        {
            var refused = recorder.RecordAsync(jobs[0], ok, CancellationToken.None);
            var error = await Assert.ThrowsAsync<OutcomeNotStoredException>(() => refused.WaitAsync(Patience));
            Assert.Contains("23514", error.Message);

            Assert.True(await recorder.RecordAsync(jobs[1], ok, CancellationToken.None).WaitAsync(Patience));
            Assert.Equal("succeeded", (await client.GetJobAsync(jobs[1].Id)).State);
            Assert.Equal("running", (await client.GetJobAsync(jobs[0].Id)).State); // handed back: its ticket's recovery runs it again
        }
        finally
        {
            await ExecuteAsync("DROP TRIGGER refuse_outcome ON jobs; DROP FUNCTION refuse_outcome();");
        }
    }

    [Fact]
    public async Task Readiness_TurnsRed_WhileAnOutcomeWaitsToBeWrittenLongerThanTheSetting()
    {
        var client = await app.CreateTenantClientAsync();
        var job = Assert.Single(await ClaimAsync(client, 1));
        var recorder = app.Services.GetRequiredService<AttemptRecorder>();
        using var http = app.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/ready")).StatusCode);

        Task<bool> recorded;
        await using (var blocker = await LockRowAsync(job.Id))
        {
            recorded = recorder.RecordAsync(job, new AttemptResult(JobState.Succeeded, "succeeded"), CancellationToken.None);
            var clock = Stopwatch.StartNew();
            while (true)
            {
                using var ready = await http.GetAsync("/health/ready");
                if (ready.StatusCode == HttpStatusCode.ServiceUnavailable)
                {
                    var body = JsonDocument.Parse(await ready.Content.ReadAsStringAsync()).RootElement;
                    var outcomes = body.GetProperty("checks").GetProperty("outcomes");
                    Assert.Equal("Unhealthy", outcomes.GetProperty("status").GetString());
                    // Readiness shows statuses only (the reason goes to the log): docs/security.md.
                    Assert.False(outcomes.TryGetProperty("description", out _));
                    break;
                }
                Assert.True(clock.Elapsed < Patience, "Readiness stayed green while an outcome could not be written.");
                await Task.Delay(100);
            }
        }

        Assert.True(await recorded.WaitAsync(Patience));
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/ready")).StatusCode);
    }

    private Task<List<Job>> ClaimAsync(HttpClient client, int count) => ClaimedByTest.ClaimAsync(app, client, count);

    private Task<IAsyncDisposable> LockRowAsync(Guid jobId) => ClaimedByTest.LockRowAsync(app.DatabaseUrl, jobId);

    /// <summary>Waits until the outcome writer's statement is waiting for a lock.</summary>
    private Task WaitUntilOutcomeWriteWaitsAsync() => ClaimedByTest.WaitUntilStatementWaitsAsync(app.DatabaseUrl, "WITH outcome AS");

    private async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = await TestDatabase.OpenAsync(app.DatabaseUrl);
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = await TestDatabase.OpenAsync(app.DatabaseUrl);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
