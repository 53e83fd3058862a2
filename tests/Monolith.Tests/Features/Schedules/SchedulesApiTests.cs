using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Tests.Infrastructure;
using Monolith.Tests.Processes;
using Monolith.Worker.Schedules;

namespace Monolith.Tests.Features.Schedules;

/// <summary>
/// <c>/v1/schedules</c> end to end on the in-process service (an <c>all</c> node running Quartz) and the real PostgreSQL:
/// create, read, change, pause, resume, run now, delete, bad input, tenants, secrets, and what a firing does
/// (<see cref="ScheduleCommands.FireAsync"/>: one run per fire time, the overlap policy).
/// </summary>
public sealed class SchedulesApiTests(MonolithFactory app) : IClassFixture<MonolithFactory>
{
    private static readonly JsonSerializerOptions Json = JobClientExtensions.Json;

    /// <summary>Fires once a year (Jan 1st): never during a test, so only what the test fires runs.</summary>
    private const string Yearly = "0 0 0 1 1 ?";

    private static object Body(string cron = Yearly, object? job = null, string? overlap = null, bool? paused = null, string timeZone = "Europe/Paris") => new
    {
        name = "nightly",
        cron,
        timeZone,
        job = job ?? new { type = "noop", payload = new { }, queue = "default", priority = 3, maxAttempts = 2 },
        overlap,
        paused,
    };

    private static async Task<ScheduleDto> CreateAsync(HttpClient client, object body)
    {
        using var response = await client.PostAsJsonAsync("/v1/schedules", body, Json);
        await JobClientExtensions.EnsureSuccessAsync(response);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var schedule = (await response.Content.ReadFromJsonAsync<ScheduleDto>(Json))!;
        Assert.Equal($"/v1/schedules/{schedule.Id}", response.Headers.Location!.OriginalString);
        return schedule;
    }

    private static async Task<ScheduleDto> GetAsync(HttpClient client, Guid id) =>
        (await client.GetFromJsonAsync<ScheduleDto>($"/v1/schedules/{id}", Json))!;

    [Fact]
    public async Task Create_answers_201_with_the_next_fire_times_in_its_time_zone_and_GET_and_the_list_show_it()
    {
        var client = await app.CreateTenantClientAsync();

        var created = await CreateAsync(client, Body(cron: "0 0 2 * * ?"));

        Assert.Equal("active", created.Status);
        Assert.Equal(5, created.NextFireTimes.Count);
        var paris = TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris");
        Assert.All(created.NextFireTimes, t => Assert.Equal(2, TimeZoneInfo.ConvertTime(t, paris).Hour));
        Assert.Equal("noop", created.Job.Type);
        Assert.Equal(3, created.Job.Priority);
        Assert.Equal(("allow", "fireNow"), (created.Overlap, created.Misfire));

        var read = await GetAsync(client, created.Id);
        Assert.Equal(created.NextFireTimes, read.NextFireTimes);
        Assert.Empty(read.Runs);
        var list = (await client.GetFromJsonAsync<ScheduleListDto>("/v1/schedules", Json))!;
        Assert.Equal(created.Id, Assert.Single(list.Items).Id);
        Assert.Equal(created.NextFireTimes[0], Assert.Single(list.Items[0].NextFireTimes));
    }

    public static TheoryData<string, string> BadBodies => new()
    {
        { """{"cron":"not a cron","job":{"type":"noop","payload":{}}}""", "cron" },
        { """{"job":{"type":"noop","payload":{}}}""", "cron" },
        { """{"cron":"* * * * * ?","intervalSeconds":5,"job":{"type":"noop","payload":{}}}""", "intervalSeconds" },
        { """{"intervalSeconds":0,"job":{"type":"noop","payload":{}}}""", "intervalSeconds" },
        { """{"cron":"0 0 2 * * ?","timeZone":"Mars/Olympus","job":{"type":"noop","payload":{}}}""", "timeZone" },
        { """{"cron":"0 0 2 * * ?"}""", "job" },
        { """{"cron":"0 0 2 * * ?","job":{"type":"nope","payload":{}}}""", "job.type" },
        { """{"cron":"0 0 2 * * ?","job":{"type":"sleep","payload":{"ms":-1}}}""", "job.payload.ms" },
        { """{"cron":"0 0 2 * * ?","job":{"type":"noop","payload":{},"delaySeconds":5}}""", "job" },
        { """{"cron":"0 0 2 * * ?","job":{"type":"noop","payload":{},"queue":"nowhere"}}""", "job.queue" },
        { """{"cron":"0 0 2 * * ?","overlap":"sometimes","job":{"type":"noop","payload":{}}}""", "overlap" },
        { """{"cron":"0 0 2 * * ?","misfire":"later","job":{"type":"noop","payload":{}}}""", "misfire" },
        { """{"cron":"0 0 2 * * ?","startAt":"2030-01-02T00:00:00Z","endAt":"2030-01-01T00:00:00Z","job":{"type":"noop","payload":{}}}""", "endAt" },
        { """{"cron":"0 0 2 * * ? 2020","job":{"type":"noop","payload":{}}}""", "cron" },
        { """{"cron":"0 0 2 * * ?","endAt":"2020-01-01T00:00:00Z","job":{"type":"noop","payload":{}}}""", "endAt" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task Bad_input_is_a_400_problem_naming_the_field(string body, string field)
    {
        var client = await app.CreateTenantClientAsync();

        using var response = await client.PostAsync("/v1/schedules", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"no error for {field}: {problem}");
        Assert.Empty((await client.GetFromJsonAsync<ScheduleListDto>("/v1/schedules", Json))!.Items); // nothing stored
    }

    [Fact]
    public async Task Run_now_submits_the_template_job_and_GET_shows_the_run_with_its_job()
    {
        var client = await app.CreateTenantClientAsync();
        var schedule = await CreateAsync(client, Body(paused: true));

        using var response = await client.PostAsync($"/v1/schedules/{schedule.Id}/run", null);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var run = (await response.Content.ReadFromJsonAsync<ScheduleRunDto>(Json))!;
        Assert.True(run.Manual);
        Assert.Equal("submitted", run.Outcome);
        var job = await client.WaitForStateAsync(run.JobId!.Value, "succeeded");
        Assert.Equal(("noop", "default", 3, 2), (job.Type, job.Queue, job.Priority, job.MaxAttempts));
        var read = await GetAsync(client, schedule.Id);
        Assert.Equal("paused", read.Status);
        Assert.Empty(read.NextFireTimes);
        var shown = Assert.Single(read.Runs);
        Assert.Equal(run.JobId, shown.Job!.Id);
    }

    [Fact]
    public async Task Pause_resume_patch_and_delete_with_their_conflicts()
    {
        var client = await app.CreateTenantClientAsync();
        var schedule = await CreateAsync(client, Body(cron: "0 0 2 * * ?"));

        using (var resumeActive = await client.PostAsync($"/v1/schedules/{schedule.Id}/resume", null))
            Assert.Equal(HttpStatusCode.Conflict, resumeActive.StatusCode);
        using (var pause = await client.PostAsync($"/v1/schedules/{schedule.Id}/pause", null))
        {
            Assert.Equal(HttpStatusCode.OK, pause.StatusCode);
            var paused = (await pause.Content.ReadFromJsonAsync<ScheduleDto>(Json))!;
            Assert.Equal("paused", paused.Status);
            Assert.Empty(paused.NextFireTimes);
        }
        Assert.False(await TriggerExistsAsync(schedule.Id));
        using (var pauseAgain = await client.PostAsync($"/v1/schedules/{schedule.Id}/pause", null))
            Assert.Equal(HttpStatusCode.Conflict, pauseAgain.StatusCode);
        using (var resume = await client.PostAsync($"/v1/schedules/{schedule.Id}/resume", null))
            Assert.Equal("active", (await resume.Content.ReadFromJsonAsync<ScheduleDto>(Json))!.Status);
        Assert.True(await TriggerExistsAsync(schedule.Id));

        using (var patch = await client.PatchAsJsonAsync($"/v1/schedules/{schedule.Id}", new { intervalSeconds = 3600, overlap = "skip" }, Json))
        {
            Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
            var changed = (await patch.Content.ReadFromJsonAsync<ScheduleDto>(Json))!;
            Assert.Equal((null, 3600, "skip", "nightly"), (changed.Cron, changed.IntervalSeconds, changed.Overlap, changed.Name));
            Assert.Equal(TimeSpan.FromHours(1), changed.NextFireTimes[1] - changed.NextFireTimes[0]);
        }
        using (var badPatch = await client.PatchAsJsonAsync($"/v1/schedules/{schedule.Id}", new { timeZone = "Nowhere/Land" }, Json))
        {
            Assert.Equal(HttpStatusCode.BadRequest, badPatch.StatusCode);
            Assert.True((await badPatch.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("timeZone", out _));
        }

        using (var delete = await client.DeleteAsync($"/v1/schedules/{schedule.Id}"))
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        Assert.False(await TriggerExistsAsync(schedule.Id));
        using (var gone = await client.GetAsync($"/v1/schedules/{schedule.Id}"))
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task Another_tenant_can_neither_see_nor_change_a_schedule()
    {
        var owner = await app.CreateTenantClientAsync();
        var other = await app.CreateTenantClientAsync();
        var schedule = await CreateAsync(owner, Body());

        foreach (var (method, path) in new[] { ("GET", ""), ("POST", "/pause"), ("POST", "/run"), ("DELETE", "") })
        {
            using var response = await other.SendAsync(new HttpRequestMessage(new HttpMethod(method), $"/v1/schedules/{schedule.Id}{path}"));
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }
        using (var patch = await other.PatchAsJsonAsync($"/v1/schedules/{schedule.Id}", new { name = "mine" }, Json))
            Assert.Equal(HttpStatusCode.NotFound, patch.StatusCode);
        Assert.Empty((await other.GetFromJsonAsync<ScheduleListDto>("/v1/schedules", Json))!.Items);
        Assert.Equal("active", (await GetAsync(owner, schedule.Id)).Status);
    }

    [Fact]
    public async Task The_templates_secret_fields_are_stored_encrypted_as_a_jobs_are()
    {
        var client = await app.CreateTenantClientAsync();
        var schedule = await CreateAsync(client, Body(paused: true, job: new
        {
            type = "http_request",
            payload = new { method = "GET", url = "http://127.0.0.1:9/report", headers = new Dictionary<string, string> { ["Authorization"] = "Bearer sched-secret-4411" } },
        }));

        await using var db = app.CreateDbContext();
        var stored = await db.Schedules.Where(s => s.Id == schedule.Id).Select(s => s.Payload).SingleAsync();
        Assert.DoesNotContain("sched-secret-4411", stored);
        Assert.Contains("enc:v1:", stored);
        var body = await (await client.GetAsync($"/v1/schedules/{schedule.Id}")).Content.ReadAsStringAsync();
        Assert.DoesNotContain("sched-secret-4411", body);
    }

    [Fact]
    public async Task A_per_second_schedule_fires_one_job_per_fire_time()
    {
        var client = await app.CreateTenantClientAsync();
        var schedule = await CreateAsync(client, Body(cron: "* * * * * ?", timeZone: "UTC"));

        await ProcessTestKit.WaitUntilAsync("three runs", TimeSpan.FromSeconds(30),
            async () => (await RunsAsync(schedule.Id)).Count >= 3, async () => $"{(await RunsAsync(schedule.Id)).Count} runs");
        using (await client.PostAsync($"/v1/schedules/{schedule.Id}/pause", null)) { }

        var runs = await RunsAsync(schedule.Id);
        Assert.All(runs, r => Assert.Equal(0, r.FireTime.Millisecond));
        Assert.Equal(runs.Count, runs.Select(r => r.FireTime).Distinct().Count());
        Assert.All(runs, r => Assert.NotNull(r.JobId));
        Assert.Equal(runs.Count, runs.Select(r => r.JobId).Distinct().Count());
    }

    [Fact]
    public async Task Overlap_skip_records_a_skipped_run_while_the_previous_job_runs_and_a_repeated_fire_time_does_nothing()
    {
        var client = await app.CreateTenantClientAsync();
        var schedule = await CreateAsync(client, Body(overlap: "skip", job: new { type = "sleep", payload = new { ms = 60_000 } }));
        var t1 = new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

        var first = await FireAsync(schedule.Id, t1);
        Assert.Equal("submitted", first.Run!.Outcome.ToString().ToLowerInvariant());
        await client.WaitForStateAsync(first.Job!.Id, "running");
        var repeated = await FireAsync(schedule.Id, t1);
        var second = await FireAsync(schedule.Id, t1.AddSeconds(1));

        Assert.Null(repeated.Run);
        Assert.Equal("skipped", second.Run!.Outcome.ToString().ToLowerInvariant());
        Assert.Null(second.Job);
        Assert.Equal(2, (await RunsAsync(schedule.Id)).Count);

        using (await client.PostAsync($"/v1/jobs/{first.Job.Id}/cancel", null)) { }
        await client.WaitForStateAsync(first.Job.Id, "cancelled");
        var third = await FireAsync(schedule.Id, t1.AddSeconds(2));
        Assert.NotNull(third.Job); // the previous run's job has ended: no overlap any more
        using (await client.PostAsync($"/v1/jobs/{third.Job.Id}/cancel", null)) { }
    }

    [Fact]
    public async Task Overlap_allow_submits_beside_a_running_job()
    {
        var client = await app.CreateTenantClientAsync();
        var schedule = await CreateAsync(client, Body(overlap: "allow", job: new { type = "sleep", payload = new { ms = 60_000 } }));
        var t1 = new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

        var first = await FireAsync(schedule.Id, t1);
        await client.WaitForStateAsync(first.Job!.Id, "running");
        var second = await FireAsync(schedule.Id, t1.AddSeconds(1));

        Assert.NotNull(second.Job);
        Assert.NotEqual(first.Job.Id, second.Job.Id);
        foreach (var id in new[] { first.Job.Id, second.Job.Id }) using (await client.PostAsync($"/v1/jobs/{id}/cancel", null)) { }
    }

    [Theory]
    [InlineData("fireNow")]
    [InlineData("skip")]
    public async Task A_trigger_an_hour_behind_is_handled_by_Quartz_as_the_misfire_policy_says(string misfire)
    {
        var client = await app.CreateTenantClientAsync();
        using var created = await client.PostAsJsonAsync("/v1/schedules",
            new { cron = "0 0/10 * * * ?", timeZone = "UTC", misfire, job = new { type = "noop", payload = new { } } }, Json);
        await JobClientExtensions.EnsureSuccessAsync(created);
        var schedule = (await created.Content.ReadFromJsonAsync<ScheduleDto>(Json))!;
        // As every worker being down for an hour leaves it: its next fire time an hour ago, past the 60 s threshold.
        var missed = schedule.NextFireTimes[0].AddHours(-1);
        var triggers = $"{Monolith.Worker.Hosting.SchemaSetup.QuartzTablePrefix}triggers";
        Assert.Equal(1, await ProcessTestKit.ScalarAsync<int>(app.DatabaseUrl,
            $"WITH moved AS (UPDATE {triggers} SET next_fire_time = @at WHERE trigger_name = @name AND trigger_group = @group RETURNING 1) SELECT count(*)::int FROM moved",
            ("at", missed.UtcTicks), ("name", schedule.Id.ToString()), ("group", ScheduleTriggers.Group)));
        var start = DateTimeOffset.UtcNow;
        Task<long> NextFireTicks() => ProcessTestKit.ScalarAsync<long>(app.DatabaseUrl,
            $"SELECT next_fire_time FROM {triggers} WHERE trigger_name = @name", ("name", schedule.Id.ToString()));

        // Quartz's misfire handler (every 5 s) applies the trigger's instruction; either way the trigger ends up ahead of now.
        await ProcessTestKit.WaitUntilAsync("the misfire handled", TimeSpan.FromSeconds(30),
            async () => await NextFireTicks() > DateTimeOffset.UtcNow.UtcTicks && (misfire == "skip" || (await RunsAsync(schedule.Id)).Count > 0),
            async () => $"next fire time {new DateTimeOffset(await NextFireTicks(), TimeSpan.Zero):O}, {(await RunsAsync(schedule.Id)).Count} runs");

        var runs = await RunsAsync(schedule.Id);
        var next = new DateTimeOffset(await NextFireTicks(), TimeSpan.Zero);
        Assert.Equal(schedule.NextFireTimes[0], next); // then on with its own times
        if (misfire == "skip")
        {
            Assert.Empty(runs); // the missed fire time is not run at all
        }
        else
        {
            var run = Assert.Single(runs); // one firing now for the five missed fire times, under the first of them
            Assert.Equal(missed, run.FireTime);
            Assert.InRange(run.CreatedAt, start.AddSeconds(-1), DateTimeOffset.UtcNow);
            Assert.NotNull(run.JobId);
        }
    }

    private async Task<(Monolith.Domain.Schedules.ScheduleRun? Run, Monolith.Domain.Jobs.Job? Job)> FireAsync(Guid scheduleId, DateTimeOffset at)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ScheduleCommands>().FireAsync(scheduleId, at, CancellationToken.None);
    }

    private async Task<List<Monolith.Domain.Schedules.ScheduleRun>> RunsAsync(Guid scheduleId)
    {
        await using var db = app.CreateDbContext();
        return await db.ScheduleRuns.AsNoTracking().Where(r => r.ScheduleId == scheduleId).OrderBy(r => r.FireTime).ToListAsync();
    }

    private async Task<bool> TriggerExistsAsync(Guid scheduleId) =>
        await ProcessTestKit.ScalarAsync<long>(app.DatabaseUrl,
            $"SELECT count(*) FROM {Monolith.Worker.Hosting.SchemaSetup.QuartzTablePrefix}triggers WHERE trigger_name = @name AND trigger_group = @group",
            ("name", scheduleId.ToString()), ("group", ScheduleTriggers.Group)) > 0;
}

public sealed record ScheduleJobDto(string Type, string? Queue, int? Priority, int? MaxAttempts);
public sealed record ScheduleRunDto(Guid Id, DateTimeOffset FireTime, string Outcome, bool Manual, Guid? JobId, JobDto? Job);
public sealed record ScheduleDto(
    Guid Id, string? Name, string Status, string? Cron, int? IntervalSeconds, string TimeZone, ScheduleJobDto Job, string Overlap, string Misfire,
    List<DateTimeOffset> NextFireTimes, List<ScheduleRunDto> Runs);
public sealed record ScheduleListDto(List<ScheduleDto> Items, string? NextCursor);
