using System.Net.Http.Json;
using Monolith.Tests.Features.Schedules;
using Monolith.Tests.Infrastructure;
using Monolith.Worker.Hosting;
using Xunit.Abstractions;

namespace Monolith.Tests.Processes;

/// <summary>
/// A per-second schedule on a cluster of an api node and two workers, one of which is killed (SIGKILL) while it fires:
/// every fire time from the first to the last has exactly one run and one job (the killed node's acquired trigger and
/// in-flight firing are recovered by the other worker, and the unique run per fire time absorbs a repeated firing).
/// </summary>
[Collection("Processes")]
public sealed class ScheduleClusterTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Every_fire_time_of_a_per_second_cron_makes_exactly_one_job_across_a_killed_worker()
    {
        await using var group = await ProcessGroup.CreateAsync(nameof(ScheduleClusterTests));
        await output.WithLogsOnFailureAsync(group, async () =>
        {
            await group.StartAsync(new NodeSpec("api", "api-1"), new NodeSpec("worker", "worker-1"), new NodeSpec("worker", "worker-2"));
            var db = group.DatabaseUrl;
            using var client = group["api-1"].CreateClient();

            using var created = await client.PostAsJsonAsync("/v1/schedules",
                new { cron = "* * * * * ?", timeZone = "UTC", job = new { type = "noop", payload = new { } } }, JobClientExtensions.Json);
            await JobClientExtensions.EnsureSuccessAsync(created);
            var schedule = (await created.Content.ReadFromJsonAsync<ScheduleDto>(JobClientExtensions.Json))!;
            Task<long> RunCount() => ProcessTestKit.ScalarAsync<long>(db, "SELECT count(*) FROM schedule_runs WHERE schedule_id = @id", ("id", schedule.Id));

            await ProcessTestKit.WaitUntilAsync("4 runs before the kill", TimeSpan.FromSeconds(30), async () => await RunCount() >= 4,
                async () => $"{await RunCount()} runs");
            var killedAt = DateTimeOffset.UtcNow;
            group["worker-1"].Kill();
            Assert.True(await group["worker-1"].WaitForExitAsync(TimeSpan.FromSeconds(10)), "worker-1 did not die");

            // Recovery takes about 10 s; then the survivor catches up and goes on. Stop once it is clearly past.
            Task<DateTime> LastFireTime() => ProcessTestKit.ScalarAsync<DateTime>(db,
                "SELECT coalesce(max(fire_time), '-infinity') FROM schedule_runs WHERE schedule_id = @id", ("id", schedule.Id));
            await ProcessTestKit.WaitUntilAsync("runs 15 s past the kill", TimeSpan.FromSeconds(60),
                async () => await LastFireTime() > killedAt.UtcDateTime.AddSeconds(15), async () => $"last fire time {await LastFireTime():O}");
            using (var pause = await client.PostAsync($"/v1/schedules/{schedule.Id}/pause", null)) await JobClientExtensions.EnsureSuccessAsync(pause);
            // Nothing of it left firing or to recover.
            var fired = $"SELECT count(*) FROM {SchemaSetup.QuartzTablePrefix}fired_triggers WHERE job_name = 'ScheduleFiring'";
            await ProcessTestKit.WaitUntilAsync("no schedule firing in flight", TimeSpan.FromSeconds(30),
                async () => await ProcessTestKit.ScalarAsync<long>(db, fired) == 0, async () => $"{await ProcessTestKit.ScalarAsync<long>(db, fired)} in flight");

            var runs = await ProcessTestKit.QueryAsync(db,
                "SELECT fire_time, outcome, job_id, created_at FROM schedule_runs WHERE schedule_id = @id ORDER BY fire_time",
                r => (FireTime: r.GetDateTime(0), Outcome: r.GetString(1), JobId: r.IsDBNull(2) ? (Guid?)null : r.GetGuid(2), CreatedAt: r.GetDateTime(3)),
                ("id", schedule.Id));
            var jobs = await ProcessTestKit.QueryAsync(db, "SELECT id FROM jobs WHERE type = 'noop'", r => r.GetGuid(0));
            var gaps = runs.Zip(runs.Skip(1)).Where(p => p.Second.FireTime - p.First.FireTime != TimeSpan.FromSeconds(1))
                .Select(p => $"{p.First.FireTime:HH:mm:ss.fff} -> {p.Second.FireTime:HH:mm:ss.fff}").ToList();
            output.Report($"{runs.Count} runs from {runs[0].FireTime:HH:mm:ss} to {runs[^1].FireTime:HH:mm:ss}, worker-1 killed at {killedAt:HH:mm:ss.fff}; " +
                          $"{jobs.Count} noop jobs; gaps: {(gaps.Count == 0 ? "none" : string.Join(", ", gaps))}; written over 3 s after their fire time " +
                          $"(recovered or caught up after the kill): {string.Join(", ", runs.Where(r => r.CreatedAt - r.FireTime > TimeSpan.FromSeconds(3)).Select(r => $"{r.FireTime:HH:mm:ss} (+{(r.CreatedAt - r.FireTime).TotalSeconds:0.0} s)"))}");

            Assert.Empty(gaps);
            Assert.All(runs, r => Assert.Equal(0, r.FireTime.Millisecond));
            Assert.All(runs, r => Assert.Equal("submitted", r.Outcome));
            Assert.Equal(runs.Count, runs.Select(r => r.JobId).Where(id => id is not null).Distinct().Count());
            Assert.Equal(runs.Select(r => r.JobId!.Value).Order(), jobs.Order()); // no job without its run, no run without its job
            Assert.Contains(runs, r => r.FireTime > killedAt.UtcDateTime.AddSeconds(2)); // it went on after the kill
        });
    }
}
