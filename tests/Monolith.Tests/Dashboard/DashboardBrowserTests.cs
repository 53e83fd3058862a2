using System.Net;
using Microsoft.Playwright;
using Monolith.Tests.Features.Queues;
using Monolith.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Monolith.Tests.Dashboard;

/// <summary>The dashboard in headless Chromium, as an operator uses it: log in, watch, cancel, retry, pause.</summary>
public sealed class DashboardBrowserTests(DashboardApp app) : IClassFixture<DashboardApp>
{
    [Fact]
    public async Task Login_WithTheAdminKey_ShowsTheOverview_AndSetsAStrictHttpOnlyCookie()
    {
        var page = await app.LoggedInPageAsync();

        await Expect(page.Locator("h1")).ToHaveTextAsync("Overview");
        await Expect(page.Locator("#queues tr[data-queue=default]")).ToBeVisibleAsync();
        await Expect(page.Locator("#throughput")).ToBeVisibleAsync();
        // This in-process node runs jobs (SERVICE_TYPE=all), so it checks in to Quartz and is listed as such.
        await Expect(page.Locator("#nodes tr", new() { HasText = "(this node)" })).ToContainTextAsync("yes");
        var cookie = (await page.Context.CookiesAsync()).Single(c => c.Name == "monolith_dashboard");
        Assert.True(cookie.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, cookie.SameSite);
        Assert.Equal("/dashboard", cookie.Path);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("not-the-admin-key")]
    public async Task WrongOrMissingKey_SeesOnlyTheLoginPage(string? key)
    {
        var page = await app.NewPageAsync();
        if (key is not null)
        {
            await page.GotoAsync("/dashboard/login");
            await page.FillAsync("#key", key);
            await page.ClickAsync("#login");
            await Expect(page.Locator("#login-error")).ToBeVisibleAsync();
        }
        using var admin = app.CreateAdminClient();
        var job = await admin.SubmitJobAsync("noop", new { }, new { delaySeconds = 3600 });

        foreach (var path in new[] { "/dashboard", "/dashboard/jobs", $"/dashboard/jobs/{job.Id}", "/dashboard/datasets" })
        {
            await page.GotoAsync(path);
            Assert.Equal("/dashboard/login", new Uri(page.Url).AbsolutePath);
            await Expect(page.Locator("#key")).ToBeVisibleAsync();
            await Expect(page.Locator("header, #job, #jobs, #queues, #datasets, #payload")).ToHaveCountAsync(0);
        }
        var json = await page.Context.APIRequest.GetAsync($"/dashboard/api/jobs/{job.Id}");
        Assert.Equal((int)HttpStatusCode.Unauthorized, json.Status);
        Assert.DoesNotContain(await page.Context.CookiesAsync(), c => c.Name == "monolith_dashboard");
    }

    [Fact]
    public async Task TheApiAdminKeyHeader_DoesNotOpenTheDashboard()
    {
        var context = await app.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = app.BaseUrl,
            ExtraHTTPHeaders = new Dictionary<string, string> { ["X-Api-Key"] = MonolithFactory.AdminKey },
        });
        var page = await context.NewPageAsync();

        await page.GotoAsync("/dashboard/jobs");

        Assert.Equal("/dashboard/login", new Uri(page.Url).AbsolutePath);
    }

    [Fact]
    public async Task ProgressBar_Moves_WhileASleepJobRuns_WithoutReloading()
    {
        using var admin = app.CreateAdminClient();
        var job = await admin.SubmitJobAsync("sleep", new { ms = 30_000 }); // ten steps of 3 s
        await admin.WaitForStateAsync(job.Id, "running");
        var page = await app.LoggedInPageAsync();
        await page.GotoAsync($"/dashboard/jobs/{job.Id}");
        await page.EvaluateAsync("window.notReloaded = true");

        var widths = new List<double>();
        var deadline = DateTime.UtcNow.AddSeconds(25);
        while (DateTime.UtcNow < deadline && widths.Distinct().Count(w => w > 0) < 3)
        {
            widths.Add(await page.EvaluateAsync<double>("parseFloat(document.getElementById('progress-bar').style.width) || 0"));
            await Task.Delay(250);
        }

        Assert.True(widths.Distinct().Count(w => w > 0) >= 3, $"The bar took widths {string.Join(", ", widths.Distinct())}.");
        Assert.Equal(widths.Where(w => w > 0).Order(), widths.Where(w => w > 0));
        Assert.True(await page.EvaluateAsync<bool>("window.notReloaded === true"), "The page was reloaded: the bar must move by itself.");
        await Expect(page.Locator("#progress-message")).ToContainTextAsync("slept");
        await admin.PostAsync($"/v1/jobs/{job.Id}/cancel", null);
    }

    [Fact]
    public async Task Cancel_FromTheJobPage_EndsARunningJobCancelled()
    {
        using var admin = app.CreateAdminClient();
        var job = await admin.SubmitJobAsync("sleep", new { ms = 60_000 });
        await admin.WaitForStateAsync(job.Id, "running");
        var page = await app.LoggedInPageAsync();
        await page.GotoAsync($"/dashboard/jobs/{job.Id}");

        await page.ClickAsync("#cancel");

        await Expect(page.Locator(".flash")).ToContainTextAsync("Cancel requested");
        var final = await admin.WaitForStateAsync(job.Id, "cancelled", TimeSpan.FromSeconds(10));
        Assert.Equal("cancelled", final.Attempts.Last().Outcome);
        await Expect(page.Locator("#state")).ToHaveTextAsync("cancelled", new() { Timeout = 10_000 });
    }

    [Fact]
    public async Task Retry_FromTheJobPage_RunsAFailedJobAgain()
    {
        using var admin = app.CreateAdminClient();
        var job = await admin.SubmitJobAsync("fail", new { failTimes = 1, retryable = false });
        await admin.WaitForStateAsync(job.Id, "failed");
        var page = await app.LoggedInPageAsync();
        await page.GotoAsync($"/dashboard/jobs/{job.Id}");
        await Expect(page.Locator("#attempts")).ToContainTextAsync("fail job: attempt 1");

        await page.ClickAsync("#retry");

        await Expect(page.Locator(".flash")).ToContainTextAsync("Retried");
        // The new run starts from attempt 1 again, which this job fails again: a second attempt record says it ran.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        JobDto again;
        while ((again = await admin.GetJobAsync(job.Id)).Attempts.Count < 2 || again.State != "failed")
        {
            Assert.True(DateTime.UtcNow < deadline, $"No second run: {again.State}, {again.Attempts.Count} attempt(s).");
            await Task.Delay(50);
        }
        await page.ReloadAsync();
        await Expect(page.Locator("#attempts tr")).ToHaveCountAsync(3);
    }

    [Fact]
    public async Task RetryAllFailed_OfATypeAndTenant_RunsEachAgain()
    {
        var (tenant, tenantId) = await app.CreateTenantAsync();
        var jobs = new List<JobDto>();
        for (var i = 0; i < 3; i++) jobs.Add(await tenant.SubmitJobAsync("fail", new { failTimes = 1, retryable = false }));
        foreach (var job in jobs) await tenant.WaitForStateAsync(job.Id, "failed");
        var page = await app.LoggedInPageAsync();
        await page.GotoAsync($"/dashboard/jobs?state=failed&type=fail&tenant={tenantId}");
        await Expect(page.Locator("#jobs tr")).ToHaveCountAsync(4);

        await page.ClickAsync("#retry-failed");

        await Expect(page.Locator(".flash")).ToContainTextAsync("3 failed fail job(s) retried");
        foreach (var job in jobs)
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while ((await tenant.GetJobAsync(job.Id)) is var again && (again.Attempts.Count < 2 || again.State != "failed"))
            {
                Assert.True(DateTime.UtcNow < deadline, $"Job {job.Id} did not run again.");
                await Task.Delay(50);
            }
        }
    }

    [Fact]
    public async Task PauseAndResume_FromTheOverview_AreWhatTheApiSays()
    {
        using var admin = app.CreateAdminClient();
        var page = await app.LoggedInPageAsync();

        await page.ClickAsync("#pause-low");

        await Expect(page.Locator(".flash")).ToContainTextAsync("Queue low paused");
        await Expect(page.Locator("#queues tr[data-queue=low] .paused")).ToContainTextAsync("paused since");
        Assert.True((await admin.GetQueueAsync("low")).Paused);
        var held = await admin.SubmitJobAsync("noop", new { }, new { queue = "low" });
        // Held while the worker claims on: a later job of another queue runs first.
        var marker = await admin.SubmitJobAsync("noop", new { });
        await admin.WaitForStateAsync(marker.Id, "succeeded");
        Assert.Equal("queued", (await admin.GetJobAsync(held.Id)).State);

        await page.ClickAsync("#resume-low");

        await Expect(page.Locator(".flash")).ToContainTextAsync("Queue low resumed");
        Assert.False((await admin.GetQueueAsync("low")).Paused);
        await admin.WaitForStateAsync(held.Id, "succeeded");
    }

    [Fact]
    public async Task APostWithoutTheAntiforgeryToken_IsRefused()
    {
        using var admin = app.CreateAdminClient();
        var job = await admin.SubmitJobAsync("noop", new { }, new { delaySeconds = 3600 });
        var page = await app.LoggedInPageAsync();

        // Logged in (the cookie goes along), but a form posted from elsewhere carries no token.
        var pause = await page.Context.APIRequest.PostAsync("/dashboard?handler=Pause", new() { Form = FormOf(page, ("queue", "critical")) });
        var cancel = await page.Context.APIRequest.PostAsync($"/dashboard/jobs/{job.Id}?handler=Cancel", new() { Form = FormOf(page) });

        Assert.Equal((int)HttpStatusCode.BadRequest, pause.Status);
        Assert.Equal((int)HttpStatusCode.BadRequest, cancel.Status);
        Assert.False((await admin.GetQueueAsync("critical")).Paused);
        Assert.Equal("scheduled", (await admin.GetJobAsync(job.Id)).State);
    }

    [Fact]
    public async Task JobPage_MasksEncryptedValuesAndHeaders()
    {
        var (_, tenantId) = await app.CreateTenantAsync();
        var id = Guid.CreateVersion7();
        // Stored as a transfer would store it: a secret encrypted at rest, and request headers.
        await QueueTestKit.ExecuteAsync(app.DatabaseUrl, """
            INSERT INTO jobs (id, tenant_id, type, queue, priority, state, payload, attempt, max_attempts, backoff_seconds, created_at, scheduled_at)
            VALUES (@id, @tenant, 'noop', 'default', 0, 'cancelled', @payload::jsonb, 0, 1, 1, now(), now())
            """, ("id", id), ("tenant", tenantId),
            ("payload", """{"url":"https://example.test/a","password":"enc:v1:test:c2VjcmV0","headers":{"Authorization":"Bearer top-secret","X-Trace":"visible-not"}}"""));
        var page = await app.LoggedInPageAsync();

        await page.GotoAsync($"/dashboard/jobs/{id}");

        var payload = await page.Locator("#payload").InnerTextAsync();
        Assert.Contains("https://example.test/a", payload);
        Assert.DoesNotContain("enc:v1", payload);
        Assert.DoesNotContain("top-secret", payload);
        Assert.DoesNotContain("visible-not", payload);
        Assert.Equal(3, payload.Split("\"***\"").Length - 1);
    }

    [Fact]
    public async Task Delete_FromTheJobPage_RemovesAFinishedJob()
    {
        using var admin = app.CreateAdminClient();
        var job = await admin.SubmitJobAsync("noop", new { });
        await admin.WaitForStateAsync(job.Id, "succeeded");
        var page = await app.LoggedInPageAsync();
        await page.GotoAsync($"/dashboard/jobs/{job.Id}");
        page.Dialog += (_, dialog) => dialog.AcceptAsync();

        await page.ClickAsync("#delete");

        await Expect(page.Locator(".flash")).ToContainTextAsync("deleted");
        using var response = await admin.GetAsync($"/v1/jobs/{job.Id}");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Logout_EndsTheSession()
    {
        var page = await app.LoggedInPageAsync();

        await page.ClickAsync("#logout");
        await page.GotoAsync("/dashboard/jobs");

        Assert.Equal("/dashboard/login", new Uri(page.Url).AbsolutePath);
    }

    private static IFormData FormOf(IPage page, params (string Name, string Value)[] fields)
    {
        var form = page.Context.APIRequest.CreateFormData();
        foreach (var (name, value) in fields) form.Set(name, value);
        return form;
    }
}
