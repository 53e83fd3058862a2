using System.Net.Http.Json;
using Monolith.Tests.Features.Schedules;
using Monolith.Tests.Infrastructure;
using static Monolith.Tests.Dashboard.DashboardTransfersAndSyncsPagesTests;

namespace Monolith.Tests.Dashboard;

/// <summary>
/// The schedules page on a database of its own: every tenant's schedules with the status and next fire time the API
/// shows, and pause, resume and run now from the page doing what <c>POST /v1/schedules/{id}/pause|resume|run</c> do.
/// </summary>
public sealed class DashboardSchedulesPageTests(MonolithFactory app) : IClassFixture<MonolithFactory>
{
    [Fact]
    public async Task Pause_resume_and_run_now_from_the_page_are_what_the_api_says()
    {
        var tenant = await app.CreateTenantClientAsync();
        using var created = await tenant.PostAsJsonAsync("/v1/schedules",
            new { name = "page-test", cron = "0 0 3 * * ?", timeZone = "Asia/Tokyo", job = new { type = "noop", payload = new { } } }, JobClientExtensions.Json);
        await JobClientExtensions.EnsureSuccessAsync(created);
        var schedule = (await created.Content.ReadFromJsonAsync<ScheduleDto>(JobClientExtensions.Json))!;
        using var dashboard = await DashboardLogin.LoginAsync(app);

        var row = Row(await dashboard.GetStringAsync("/dashboard/schedules"), schedule.Id);
        Assert.Contains("class=\"state-active\">active<", row);
        Assert.Contains("<code>0 0 3 * * ?</code> Asia/Tokyo", row);
        Assert.Contains(schedule.NextFireTimes[0].ToString("u"), row);
        Assert.Contains("<a href=\"/dashboard/schedules\" class=\"current\">Schedules</a>", await dashboard.GetStringAsync("/dashboard/schedules"));

        var afterPause = await PostRowActionAsync(dashboard, "/dashboard/schedules", schedule.Id, "Pause");
        Assert.Contains($"Schedule {schedule.Id}: paused.", afterPause);
        Assert.Contains("class=\"state-paused\">paused<", Row(afterPause, schedule.Id));
        Assert.Equal("paused", (await tenant.GetFromJsonAsync<ScheduleDto>($"/v1/schedules/{schedule.Id}", JobClientExtensions.Json))!.Status);

        var afterRun = await PostRowActionAsync(dashboard, "/dashboard/schedules", schedule.Id, "Run");
        var read = (await tenant.GetFromJsonAsync<ScheduleDto>($"/v1/schedules/{schedule.Id}", JobClientExtensions.Json))!;
        var run = Assert.Single(read.Runs);
        Assert.True(run.Manual);
        Assert.Contains($"Schedule {schedule.Id}: job {run.JobId} submitted.", afterRun);

        var afterResume = await PostRowActionAsync(dashboard, "/dashboard/schedules", schedule.Id, "Resume");
        Assert.Contains("class=\"state-active\">active<", Row(afterResume, schedule.Id));
        Assert.Equal("active", (await tenant.GetFromJsonAsync<ScheduleDto>($"/v1/schedules/{schedule.Id}", JobClientExtensions.Json))!.Status);
    }
}
