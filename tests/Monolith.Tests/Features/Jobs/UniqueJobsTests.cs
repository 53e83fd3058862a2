using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Features.Jobs;

/// <summary>
/// uniqueKey + uniqueScope on a submit: while a job of the tenant holds the key (inside its window), a submit with the key
/// answers that job (200) and stores nothing; once the window is over, a new job is created. Race-free by the partial
/// unique index ux_jobs_unique_key, in single submits (group-committed) and batches.
/// </summary>
public sealed class UniqueJobsTests(MonolithFactory app) : IClassFixture<MonolithFactory>
{
    private sealed record BatchResponse(List<Guid> Ids);

    private sealed record UniqueJobDto(Guid Id, string State, string? UniqueKey, string? UniqueScope);

    private static async Task<(HttpStatusCode Status, UniqueJobDto Job)> SubmitAsync(HttpClient client, object body)
    {
        using var response = await client.PostAsJsonAsync("/v1/jobs", body);
        await JobClientExtensions.EnsureSuccessAsync(response);
        return (response.StatusCode, (await response.Content.ReadFromJsonAsync<UniqueJobDto>(JobClientExtensions.Json))!);
    }

    private static string NewKey() => "report:" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task ManyConcurrentSubmitsOfOneKey_CreateOneJob_AndAllAnswerIt()
    {
        var client = await app.CreateTenantClientAsync();
        var key = NewKey();
        var body = new { type = "noop", payload = new { }, delaySeconds = 3600, uniqueKey = key };

        // Arriving together, most are group-committed into the same INSERT: both a conflict inside one statement and one
        // with another transaction's row are exercised.
        var answers = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => SubmitAsync(client, body)));

        Assert.Equal(1, answers.Count(a => a.Status == HttpStatusCode.Accepted));
        Assert.Equal(39, answers.Count(a => a.Status == HttpStatusCode.OK));
        Assert.Single(answers.Select(a => a.Job.Id).Distinct());
        Assert.All(answers, a => Assert.Equal(("until_executed", key), (a.Job.UniqueScope, a.Job.UniqueKey)));
        await using var db = app.CreateDbContext();
        Assert.Equal(1, await db.Jobs.CountAsync(j => j.UniqueKey == key));
    }

    [Fact]
    public async Task UntilExecuted_HoldsWhileRunning_AndANewJobIsCreatedOnceItEnded()
    {
        var client = await app.CreateTenantClientAsync();
        var key = NewKey();
        var body = new { type = "sleep", payload = new { ms = 600_000 }, uniqueKey = key, uniqueScope = "until_executed" };

        var (created, job) = await SubmitAsync(client, body);
        await client.WaitForStateAsync(job.Id, "running");
        var (whileRunning, same) = await SubmitAsync(client, body);
        using (var cancel = await client.PostAsync($"/v1/jobs/{job.Id}/cancel", null)) await JobClientExtensions.EnsureSuccessAsync(cancel);
        await client.WaitForStateAsync(job.Id, "cancelled");
        var (afterEnd, next) = await SubmitAsync(client, body);

        Assert.Equal(HttpStatusCode.Accepted, created);
        Assert.Equal((HttpStatusCode.OK, job.Id, "running"), (whileRunning, same.Id, same.State));
        Assert.Equal(HttpStatusCode.Accepted, afterEnd);
        Assert.NotEqual(job.Id, next.Id);
        using var cleanup = await client.PostAsync($"/v1/jobs/{next.Id}/cancel", null);
    }

    [Fact]
    public async Task UntilExecuted_ASucceededJobNoLongerHoldsItsKey()
    {
        var client = await app.CreateTenantClientAsync();
        var body = new { type = "noop", payload = new { }, uniqueKey = NewKey() };

        var (_, first) = await SubmitAsync(client, body);
        await client.WaitForStateAsync(first.Id, "succeeded");
        var (status, second) = await SubmitAsync(client, body);

        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.NotEqual(first.Id, second.Id);
    }

    [Fact]
    public async Task UntilStarted_HoldsWhileWaiting_AndIsReleasedOnceTheJobStarts()
    {
        var client = await app.CreateTenantClientAsync();
        var key = NewKey();

        var (_, waiting) = await SubmitAsync(client, new { type = "noop", payload = new { }, delaySeconds = 3600, uniqueKey = key, uniqueScope = "until_started" });
        var (whileWaiting, same) = await SubmitAsync(client, new { type = "noop", payload = new { }, uniqueKey = key, uniqueScope = "until_started" });
        using (var cancel = await client.PostAsync($"/v1/jobs/{waiting.Id}/cancel", null)) await JobClientExtensions.EnsureSuccessAsync(cancel);

        var running = new { type = "sleep", payload = new { ms = 600_000 }, uniqueKey = key, uniqueScope = "until_started" };
        var (_, started) = await SubmitAsync(client, running);
        await client.WaitForStateAsync(started.Id, "running");
        var (afterStart, another) = await SubmitAsync(client, running);

        Assert.Equal((HttpStatusCode.OK, waiting.Id), (whileWaiting, same.Id));
        Assert.Equal(HttpStatusCode.Accepted, afterStart);
        Assert.NotEqual(started.Id, another.Id);
        foreach (var id in new[] { started.Id, another.Id })
        {
            using var cleanup = await client.PostAsync($"/v1/jobs/{id}/cancel", null);
        }
    }

    [Fact]
    public async Task Batch_WithTwoSubmitsOfOneKey_StoresOneJob_AndAnswersItsIdForBoth()
    {
        var client = await app.CreateTenantClientAsync();
        var key = NewKey();
        var jobs = new object[]
        {
            new { type = "noop", payload = new { }, delaySeconds = 3600, uniqueKey = key },
            new { type = "noop", payload = new { }, delaySeconds = 3600 },
            new { type = "noop", payload = new { }, delaySeconds = 3600, uniqueKey = key },
        };

        using var response = await client.PostAsJsonAsync("/v1/jobs/batch", new { jobs });
        await JobClientExtensions.EnsureSuccessAsync(response);
        var ids = (await response.Content.ReadFromJsonAsync<BatchResponse>(JobClientExtensions.Json))!.Ids;
        using var again = await client.PostAsJsonAsync("/v1/jobs/batch", new { jobs = new[] { jobs[0] } });
        var againIds = (await again.Content.ReadFromJsonAsync<BatchResponse>(JobClientExtensions.Json))!.Ids;

        Assert.Equal(3, ids.Count);
        Assert.Equal(ids[0], ids[2]);
        Assert.NotEqual(ids[0], ids[1]);
        Assert.Equal([ids[0]], againIds);
        await using var db = app.CreateDbContext();
        Assert.Equal(1, await db.Jobs.CountAsync(j => j.UniqueKey == key));
    }

    [Fact]
    public async Task SameKeyOfAnotherTenant_IsAnotherJob()
    {
        var alice = await app.CreateTenantClientAsync();
        var bob = await app.CreateTenantClientAsync();
        var body = new { type = "noop", payload = new { }, delaySeconds = 3600, uniqueKey = NewKey() };

        var (aliceStatus, aliceJob) = await SubmitAsync(alice, body);
        var (bobStatus, bobJob) = await SubmitAsync(bob, body);

        Assert.Equal((HttpStatusCode.Accepted, HttpStatusCode.Accepted), (aliceStatus, bobStatus));
        Assert.NotEqual(aliceJob.Id, bobJob.Id);
    }

    [Fact]
    public async Task RetryOfAnEndedJob_WhoseKeyIsHeldByAnother_Is409_AndWorksOnceTheKeyIsFree()
    {
        var client = await app.CreateTenantClientAsync();
        var body = new { type = "noop", payload = new { }, delaySeconds = 3600, uniqueKey = NewKey() };
        var (_, first) = await SubmitAsync(client, body);
        using (var cancel = await client.PostAsync($"/v1/jobs/{first.Id}/cancel", null)) await JobClientExtensions.EnsureSuccessAsync(cancel);
        var (_, holder) = await SubmitAsync(client, body);

        using var refused = await client.PostAsync($"/v1/jobs/{first.Id}/retry", null);
        var problem = await refused.Content.ReadAsStringAsync();
        using (var cancel = await client.PostAsync($"/v1/jobs/{holder.Id}/cancel", null)) await JobClientExtensions.EnsureSuccessAsync(cancel);
        using var retried = await client.PostAsync($"/v1/jobs/{first.Id}/retry", null);

        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType!.MediaType);
        Assert.Contains("unique key", problem);
        Assert.Equal(HttpStatusCode.Accepted, retried.StatusCode);
    }

    [Theory]
    [InlineData("""{"type":"noop","payload":{},"uniqueKey":""}""", "uniqueKey")]
    [InlineData("""{"type":"noop","payload":{},"uniqueKey":"has space"}""", "uniqueKey")]
    [InlineData("""{"type":"noop","payload":{},"uniqueKey":"caf\u00e9"}""", "uniqueKey")]
    [InlineData("""{"type":"noop","payload":{},"uniqueKey":"nul\u0000"}""", "uniqueKey")]
    [InlineData("""{"type":"noop","payload":{},"uniqueKey":"k","uniqueScope":"forever"}""", "uniqueScope")]
    [InlineData("""{"type":"noop","payload":{},"uniqueScope":"until_started"}""", "uniqueScope")]
    [InlineData("""{"type":"noop","payload":{},"uniqueKey":7}""", "uniqueKey")]
    public async Task BadUniqueFields_Are400ProblemsNamingTheField(string json, string field)
    {
        var client = await app.CreateTenantClientAsync();

        using var response = await client.PostAsync("/v1/jobs", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(problem.RootElement.GetProperty("errors").TryGetProperty(field, out _), problem.RootElement.ToString());
    }

    [Fact]
    public async Task TooLongKey_Is400_AndInABatchTheErrorNamesTheJob()
    {
        var client = await app.CreateTenantClientAsync();
        var jobs = new object[] { new { type = "noop", payload = new { } }, new { type = "noop", payload = new { }, uniqueKey = new string('k', 201) } };

        using var single = await client.PostAsJsonAsync("/v1/jobs", jobs[1]);
        using var batch = await client.PostAsJsonAsync("/v1/jobs/batch", new { jobs });

        Assert.Equal(HttpStatusCode.BadRequest, single.StatusCode);
        Assert.Contains("\"uniqueKey\"", await single.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, batch.StatusCode);
        Assert.Contains("jobs[1].uniqueKey", await batch.Content.ReadAsStringAsync());
    }
}
