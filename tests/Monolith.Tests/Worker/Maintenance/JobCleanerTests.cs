using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Domain.Jobs;
using Monolith.Tests.Features.Datasets;
using Monolith.Tests.Infrastructure;
using Monolith.Worker.Maintenance;
using Quartz;

namespace Monolith.Tests.Worker.Maintenance;

/// <summary>
/// Retention with short ages (succeeded and cancelled 1 day, failed 2 days, datasets 1 day), small batches (2 rows, so
/// a run takes several), and a schedule that never fires on its own: the tests trigger the Quartz job themselves.
/// </summary>
public sealed class RetentionFactory : MonolithFactory
{
    public string StorageRoot { get; } = Path.Combine(Path.GetTempPath(), "monolith-retention-" + Guid.NewGuid().ToString("N"));

    protected override Dictionary<string, string?> Settings => new(base.Settings)
    {
        ["Storage:Root"] = StorageRoot,
        ["Retention:Schedule"] = "0 0 0 1 1 ? 2099",
        ["Retention:SucceededDays"] = "1",
        ["Retention:FailedDays"] = "2",
        ["Retention:CancelledDays"] = "1",
        ["Retention:DatasetsDays"] = "1",
        ["Retention:ScheduleRunsDays"] = "1",
        ["Retention:BatchSize"] = "2",
    };

    public string[] StoredFiles() =>
        Directory.Exists(StorageRoot) ? Directory.GetFiles(StorageRoot, "*", SearchOption.AllDirectories) : [];

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing && Directory.Exists(StorageRoot)) Directory.Delete(StorageRoot, recursive: true);
    }
}

public sealed class JobCleanerTests(RetentionFactory app) : IClassFixture<RetentionFactory>
{
    [Fact]
    public async Task Cleaner_DeletesFinishedJobsPastTheirStatesAge_AndKeepsTheRest()
    {
        var client = await app.CreateTenantClientAsync();
        var oldSucceeded = new List<Guid>();
        for (var i = 0; i < 5; i++) oldSucceeded.Add((await client.SubmitJobAsync("fail", new { failTimes = 1 }, new { backoffSeconds = 0.1 })).Id);
        var freshSucceeded = (await client.SubmitJobAsync("noop", new { })).Id;
        var oldFailed = (await client.SubmitJobAsync("fail", new { failTimes = 1, retryable = false })).Id;
        var youngerFailed = (await client.SubmitJobAsync("fail", new { failTimes = 1, retryable = false })).Id;
        var oldCancelled = (await client.SubmitJobAsync("noop", new { }, new { delaySeconds = 3600 })).Id;
        var waiting = (await client.SubmitJobAsync("noop", new { }, new { delaySeconds = 3600 })).Id;
        (await client.PostAsync($"/v1/jobs/{oldCancelled}/cancel", null)).EnsureSuccessStatusCode();
        foreach (var id in oldSucceeded.Append(freshSucceeded)) await client.WaitForStateAsync(id, "succeeded");
        await client.WaitForStateAsync(oldFailed, "failed");
        await client.WaitForStateAsync(youngerFailed, "failed");

        // Age the rows: three days for the old ones, one and a half for the failed job that must stay (2-day age).
        await using (var db = app.CreateDbContext())
        {
            await db.Database.ExecuteSqlAsync($"UPDATE jobs SET finished_at = now() - interval '3 days' WHERE id = ANY({oldSucceeded.Append(oldFailed).Append(oldCancelled).ToArray()})");
            await db.Database.ExecuteSqlAsync($"UPDATE jobs SET finished_at = now() - interval '36 hours' WHERE id = {youngerFailed}");
        }
        var before = await CountsAsync(client);

        await RunCleanerAsync(async () =>
        {
            await using var db = app.CreateDbContext();
            return !await db.Jobs.AnyAsync(j => oldSucceeded.Contains(j.Id) || j.Id == oldFailed || j.Id == oldCancelled);
        });

        await using (var db = app.CreateDbContext())
        {
            var gone = oldSucceeded.Append(oldFailed).Append(oldCancelled).ToList();
            Assert.False(await db.JobAttempts.AnyAsync(a => gone.Contains(a.JobId)), "attempts of deleted jobs remain");
            var kept = new[] { freshSucceeded, youngerFailed, waiting };
            Assert.Equal(3, await db.Jobs.CountAsync(j => kept.Contains(j.Id)));
            Assert.Equal(2, await db.JobAttempts.CountAsync(a => a.JobId == freshSucceeded || a.JobId == youngerFailed));
        }
        // GET /v1/queues counts the finished jobs that are kept: the deleted ones are subtracted.
        var after = await CountsAsync(client);
        Assert.Equal(before["succeeded"] - 5, after["succeeded"]);
        Assert.Equal(before["failed"] - 1, after["failed"]);
        Assert.Equal(before["cancelled"] - 1, after["cancelled"]);
        Assert.Equal(1, after["succeeded"]);
        Assert.Equal(1, after["failed"]);
        Assert.Equal(0, after["cancelled"]);
        Assert.Equal(1, after["scheduled"]);
    }

    [Fact]
    public async Task Cleaner_RemovesDatasetsPastTheirAge_WithRecordsAndFile()
    {
        using var files = new TestFiles();
        var client = await app.CreateTenantClientAsync();
        var old = await client.UploadAcceptedAsync(files.WriteText("yob2001.txt", TestFiles.YobLines(3)));
        var fresh = await client.UploadAcceptedAsync(files.WriteText("yob2002.txt", TestFiles.YobLines(3)));
        Assert.Equal("completed", (await client.WaitUntilFinishedAsync(old.Id)).State);
        Assert.Equal("completed", (await client.WaitUntilFinishedAsync(fresh.Id)).State);
        var filesBefore = app.StoredFiles().Length;

        await using (var db = app.CreateDbContext())
        {
            await db.Database.ExecuteSqlAsync($"UPDATE datasets SET created_at = now() - interval '2 days' WHERE id = {old.Id}");
        }

        await RunCleanerAsync(async () =>
        {
            await using var db = app.CreateDbContext();
            return !await db.Datasets.AnyAsync(d => d.Id == old.Id);
        });

        await using (var db = app.CreateDbContext())
        {
            Assert.False(await db.NameRecords.AnyAsync(r => r.DatasetId == old.Id));
            Assert.Equal(6, await db.NameRecords.CountAsync(r => r.DatasetId == fresh.Id));
        }
        Assert.Equal(filesBefore - 1, app.StoredFiles().Length);
        Assert.Equal("completed", (await client.GetDatasetAsync(fresh.Id)).State);
        using var gone = await client.GetAsync($"/v1/datasets/{old.Id}");
        Assert.Equal(System.Net.HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task Cleaner_DeletesScheduleRunsPastTheirAge_ButKeepsEachSchedulesLatestRunWithAJob()
    {
        var client = await app.CreateTenantClientAsync();
        var body = new { cron = "0 0 0 1 1 ? 2099", job = new { type = "noop", payload = new { } } };
        using var first = await client.PostAsJsonAsync("/v1/schedules", body);
        using var second = await client.PostAsJsonAsync("/v1/schedules", body);
        var a = (await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        var b = (await second.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        // (schedule, fire time's age in hours, with a job): a's latest run with a job is old, newer skipped ones are too.
        var runs = new (Guid Schedule, int AgeHours, bool WithJob)[]
        {
            (a, 72, true), (a, 60, false), (a, 48, false), (a, 1, false),
            (b, 120, true), (b, 96, true), (b, 2, false),
        };
        var ids = new Dictionary<(Guid, int), Guid>();
        await using (var db = app.CreateDbContext())
        {
            var tenant = await db.Schedules.Where(s => s.Id == a).Select(s => s.TenantId).SingleAsync();
            foreach (var (schedule, age, withJob) in runs)
            {
                var id = Guid.CreateVersion7();
                ids[(schedule, age)] = id;
                Guid? job = withJob ? Guid.CreateVersion7() : null;
                var outcome = withJob ? "submitted" : "skipped";
                await db.Database.ExecuteSqlAsync($"""
                    INSERT INTO schedule_runs (id, tenant_id, schedule_id, fire_time, outcome, manual, job_id, created_at)
                    VALUES ({id}, {tenant}, {schedule}, now() - make_interval(hours => {age}), {outcome}, false, {job}, now())
                    """);
            }
        }

        var kept = new[] { ids[(a, 72)], ids[(a, 1)], ids[(b, 96)], ids[(b, 2)] };
        await RunCleanerAsync(async () =>
        {
            await using var db = app.CreateDbContext();
            return await db.ScheduleRuns.CountAsync(r => r.ScheduleId == a || r.ScheduleId == b) == kept.Length;
        });

        await using (var db = app.CreateDbContext())
        {
            var left = await db.ScheduleRuns.Where(r => r.ScheduleId == a || r.ScheduleId == b).Select(r => r.Id).ToListAsync();
            Assert.Equal(kept.Order(), left.Order());
        }
    }

    /// <summary>Fires the clustered Quartz job now (as its cron would) and waits for <paramref name="done"/>.</summary>
    private async Task RunCleanerAsync(Func<Task<bool>> done)
    {
        var scheduler = await app.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
        await scheduler.TriggerJob(JobCleaner.Key);
        var clock = Stopwatch.StartNew();
        while (!await done())
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(30)) Assert.Fail("The cleaner did not finish within 30 s.");
            await Task.Delay(100);
        }
    }

    /// <summary>The default queue's counts per state, from GET /v1/queues.</summary>
    private static async Task<Dictionary<string, long>> CountsAsync(HttpClient client)
    {
        var body = await client.GetFromJsonAsync<JsonElement>("/v1/queues");
        var queue = body.GetProperty("items").EnumerateArray().First(q => q.GetProperty("name").GetString() == "default");
        return queue.GetProperty("counts").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64());
    }
}
