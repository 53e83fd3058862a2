using System.Globalization;
using System.Text.RegularExpressions;
using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Observability;

/// <summary>
/// The service with a queue of its own ("observed"): the counters are process-wide (other test classes move them
/// too, so the tests compare before and after), but the queue-depth gauge of a queue no other test host has is
/// written only by this one.
/// </summary>
public sealed class MetricsFactory : MonolithFactory
{
    protected override Dictionary<string, string?> Settings => new(base.Settings)
    {
        ["Worker:Queues:default"] = "3",
        ["Worker:Queues:observed"] = "1",
    };
}

public sealed class MetricsTests(MetricsFactory app) : IClassFixture<MetricsFactory>
{
    [Fact]
    public async Task Metrics_MoveForSubmitsStartsOutcomesRetriesAndQueueDepth()
    {
        var client = await app.CreateTenantClientAsync();
        var before = Parse(await client.GetStringAsync("/metrics"));

        var noop = await client.SubmitJobAsync("noop", new { }, new { queue = "observed" });
        var retried = await client.SubmitJobAsync("fail", new { failTimes = 1 }, new { queue = "observed", backoffSeconds = 0.1 });
        var failed = await client.SubmitJobAsync("fail", new { failTimes = 1, retryable = false }, new { queue = "observed" });
        var waiting = await client.SubmitJobAsync("noop", new { }, new { queue = "observed", delaySeconds = 3600 });
        await client.WaitForStateAsync(noop.Id, "succeeded");
        await client.WaitForStateAsync(retried.Id, "succeeded");
        await client.WaitForStateAsync(failed.Id, "failed");

        // The queue figures' finished counts are folded in by the triggers at commit; the gauge reads them again at most
        // every few seconds: scrape until it shows this test's jobs.
        var after = await ScrapeUntilAsync(client, m =>
            m.GetValueOrDefault("""monolith_queue_jobs{queue="observed",state="succeeded"}""") == 2
            && m.GetValueOrDefault("""monolith_queue_jobs{queue="observed",state="failed"}""") == 1
            && m.GetValueOrDefault("""monolith_queue_jobs{queue="observed",state="scheduled"}""") == 1);

        double Moved(string series) => after.GetValueOrDefault(series) - before.GetValueOrDefault(series);
        Assert.Equal(2, Moved("""monolith_jobs_submitted_total{type="noop",queue="observed"}"""));
        Assert.Equal(2, Moved("""monolith_jobs_submitted_total{type="fail",queue="observed"}"""));
        Assert.True(Moved("""monolith_job_attempts_started_total{type="noop",queue="observed"}""") >= 1);
        Assert.True(Moved("""monolith_job_attempts_started_total{type="fail",queue="observed"}""") >= 3);
        Assert.True(Moved("""monolith_job_attempts_total{type="fail",outcome="failed"}""") >= 2);
        Assert.True(Moved("""monolith_jobs_finished_total{type="noop",state="succeeded"}""") >= 1);
        Assert.True(Moved("""monolith_jobs_finished_total{type="fail",state="succeeded"}""") >= 1);
        Assert.True(Moved("""monolith_jobs_finished_total{type="fail",state="failed"}""") >= 1);
        Assert.True(Moved("""monolith_job_retries_total{type="fail"}""") >= 1);
        Assert.True(Moved("""monolith_job_attempt_duration_seconds_count{type="noop"}""") >= 1);
        Assert.True(Moved("""monolith_job_enqueue_to_start_seconds_count{type="noop",queue="observed"}""") >= 1);
        Assert.True(after.ContainsKey("monolith_jobs_running"));

        // Queue depth of the cluster, from the queue figures: this host's queue only has this test's jobs.
        Assert.Equal(2, after.GetValueOrDefault("""monolith_queue_jobs{queue="observed",state="succeeded"}"""));
        Assert.Equal(1, after.GetValueOrDefault("""monolith_queue_jobs{queue="observed",state="failed"}"""));
        Assert.Equal(1, after.GetValueOrDefault("""monolith_queue_jobs{queue="observed",state="scheduled"}"""));
        Assert.Equal(0, after.GetValueOrDefault("""monolith_queue_jobs{queue="observed",state="running"}"""));
        _ = waiting;
    }

    [Fact]
    public async Task Metrics_LabelsNameNoJobIdsOrTenants()
    {
        var client = await app.CreateTenantClientAsync();
        var job = await client.SubmitJobAsync("noop", new { });
        await client.WaitForStateAsync(job.Id, "succeeded");

        var text = await client.GetStringAsync("/metrics");

        var ours = text.Split('\n').Where(l => l.StartsWith("monolith_", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(ours);
        Assert.DoesNotContain(ours, l => l.Contains(job.Id.ToString()));
        var labelNames = ours.SelectMany(l => Regex.Matches(l, "([a-z_]+)=\"").Select(m => m.Groups[1].Value)).ToHashSet();
        Assert.Subset(new HashSet<string> { "type", "queue", "outcome", "state", "le" }, labelNames);
    }

    /// <summary>Scrapes /metrics until <paramref name="done"/> holds of the series (at most 30 s), and returns that scrape.</summary>
    private static async Task<Dictionary<string, double>> ScrapeUntilAsync(HttpClient client, Func<Dictionary<string, double>, bool> done)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var series = Parse(await client.GetStringAsync("/metrics"));
            if (done(series)) return series;
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "the queue-depth gauge did not show this test's jobs within 30 s");
            await Task.Delay(100);
        }
    }

    /// <summary>Prometheus text format: "series value" per line (comments skipped).</summary>
    private static Dictionary<string, double> Parse(string text)
    {
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#') continue;
            var space = line.LastIndexOf(' ');
            if (space <= 0) continue;
            if (double.TryParse(line[(space + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var value)) values[line[..space]] = value;
        }
        return values;
    }
}
