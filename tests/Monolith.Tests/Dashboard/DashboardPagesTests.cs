using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc.Testing;
using Monolith.Tests.Features.Queues;
using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Dashboard;

/// <summary>
/// What the dashboard's pages show, read as HTML over HTTP with the login cookie (no browser): on a database of this
/// class's own, so the overview's figures are this class's jobs only.
/// </summary>
public sealed class DashboardPagesTests(MonolithFactory app) : IClassFixture<MonolithFactory>
{
    [Fact]
    public async Task Overview_CountsTheLastHoursAttempts_AndListsThisNode()
    {
        var (tenant, _) = await app.CreateTenantAsync();
        var done = new List<JobDto>();
        for (var i = 0; i < 3; i++) done.Add(await tenant.SubmitJobAsync("noop", new { }));
        var failed = await tenant.SubmitJobAsync("fail", new { failTimes = 1, retryable = false });
        foreach (var job in done) await tenant.WaitForStateAsync(job.Id, "succeeded");
        await tenant.WaitForStateAsync(failed.Id, "failed");
        using var dashboard = await LoginAsync();

        var html = await dashboard.GetStringAsync("/dashboard");

        Assert.Contains("the hour: 3 succeeded, 1 failed", html);
        Assert.Matches("data-state=\"succeeded\">3<", html);
        Assert.Matches("data-state=\"failed\">1<", html);
        Assert.Contains("(this node)</td>", html);
    }

    [Fact]
    public async Task Jobs_FilteredByTenantAndState_ListOnlyThose()
    {
        var (alice, aliceId) = await app.CreateTenantAsync();
        var (bob, _) = await app.CreateTenantAsync();
        var aliceDone = await alice.SubmitJobAsync("noop", new { });
        var aliceWaiting = await alice.SubmitJobAsync("noop", new { }, new { delaySeconds = 3600 });
        var bobDone = await bob.SubmitJobAsync("noop", new { });
        await alice.WaitForStateAsync(aliceDone.Id, "succeeded");
        await bob.WaitForStateAsync(bobDone.Id, "succeeded");
        using var dashboard = await LoginAsync();

        var html = await dashboard.GetStringAsync($"/dashboard/jobs?state=succeeded&tenant={aliceId}");

        Assert.Contains(aliceDone.Id.ToString(), html);
        Assert.DoesNotContain(aliceWaiting.Id.ToString(), html);
        Assert.DoesNotContain(bobDone.Id.ToString(), html);
    }

    [Fact]
    public async Task Jobs_PageByPage_ShowEveryJobOnce()
    {
        var (tenant, tenantId) = await app.CreateTenantAsync();
        var ids = new HashSet<Guid>();
        for (var i = 0; i < 60; i++) ids.Add((await tenant.SubmitJobAsync("noop", new { }, new { delaySeconds = 3600 })).Id);
        using var dashboard = await LoginAsync();

        var first = await dashboard.GetStringAsync($"/dashboard/jobs?tenant={tenantId}");
        var next = Regex.Match(first, "id=\"next\" href=\"([^\"]+)\"").Groups[1].Value.Replace("&amp;", "&");
        var second = await dashboard.GetStringAsync(next);

        var seen = JobIds(first).Concat(JobIds(second)).ToList();
        Assert.Equal(60, seen.Count);
        Assert.Equal(ids, seen.ToHashSet());
        Assert.DoesNotContain("id=\"next\"", second);
    }

    [Fact]
    public async Task Jobs_SearchById_OpensTheJobPage()
    {
        var (tenant, _) = await app.CreateTenantAsync();
        var job = await tenant.SubmitJobAsync("noop", new { }, new { delaySeconds = 3600 });
        using var dashboard = await LoginAsync();

        using var response = await dashboard.GetAsync($"/dashboard/jobs?id={job.Id}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal($"/dashboard/jobs/{job.Id}", response.RequestMessage!.RequestUri!.AbsolutePath);
        Assert.Contains("<h1>Job <code>" + job.Id + "</code></h1>", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Datasets_ShowStateAndTheJobsProgress()
    {
        var (tenant, tenantId) = await app.CreateTenantAsync();
        var job = await tenant.SubmitJobAsync("sleep", new { ms = 60_000 }, new { delaySeconds = 3600 });
        var dataset = Guid.CreateVersion7();
        await QueueTestKit.ExecuteAsync(app.DatabaseUrl, "UPDATE jobs SET progress_percent = 37 WHERE id = @id", ("id", job.Id));
        await QueueTestKit.ExecuteAsync(app.DatabaseUrl, """
            INSERT INTO datasets (id, tenant_id, country, format, file_name, storage_key, size_bytes, state, rows_inserted, rows_rejected,
                                  aggregate_rows, rows_superseded, job_id, created_at)
            VALUES (@id, @tenant, 'US', 'us_yob', 'yob2000.txt', 'datasets/x', 10, 'processing', 0, 0, 0, 0, @job, now())
            """, ("id", dataset), ("tenant", tenantId), ("job", job.Id));
        using var dashboard = await LoginAsync();

        var html = await dashboard.GetStringAsync("/dashboard/datasets");

        var row = Regex.Match(html, $"<tr>\\s*<td><code>{dataset}</code>.*?</tr>", RegexOptions.Singleline).Value;
        Assert.Contains("processing", row);
        Assert.Contains("width: 37%", row);
        Assert.Contains($"/dashboard/jobs/{job.Id}", row);
    }

    /// <summary>A client holding the dashboard cookie: the login form's antiforgery token and the admin key posted.</summary>
    private async Task<HttpClient> LoginAsync()
    {
        var client = app.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = true, AllowAutoRedirect = true });
        var form = await client.GetStringAsync("/dashboard/login");
        var token = Regex.Match(form, "name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"").Groups[1].Value;
        using var login = await client.PostAsync("/dashboard/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["key"] = MonolithFactory.AdminKey,
            ["__RequestVerificationToken"] = token,
        }));
        Assert.Equal("/dashboard", login.RequestMessage!.RequestUri!.AbsolutePath);
        return client;
    }

    private static IEnumerable<Guid> JobIds(string html) =>
        Regex.Matches(html, "<a href=\"/dashboard/jobs/([0-9a-f-]{36})\">").Select(m => Guid.Parse(m.Groups[1].Value));
}
