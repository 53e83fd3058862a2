namespace Monolith.Bench;

/// <summary>
/// Scenario 12 (issue 12): many short jobs on few slots. <see cref="SleepJobs"/> <c>sleep</c> jobs of <see cref="SleepMs"/> ms
/// (each reports progress as it sleeps) queued beforehand, then one worker node with <see cref="SleepSlots"/> slots; jobs/s
/// against the ideal of every slot always sleeping.
/// </summary>
public sealed partial class Bench
{
    private const int SleepJobs = 10_000;
    private const int SleepMs = 50;
    private const int SleepSlots = 8;
    private const double SleepIdealRate = SleepSlots * 1000.0 / SleepMs;
    private double? _sleepRate;

    private async Task SleepThroughputAsync()
    {
        var database = await db.CreateDatabaseAsync("bench_s12_sleep");
        await using var api = await StartAsync(database, "api", "s12-api");
        using var http = Load.Client(api.BaseUrl);
        var submit = await Load.SubmitAsync(http, Load.Sleep(SleepMs), BatchClients, SleepJobs, null, BatchSize);
        Line($"queued {submit.Accepted} sleep jobs of {SleepMs} ms in {submit.Elapsed.TotalSeconds:F1} s ({submit.Failed} failed) with no worker running");

        await using var worker = await StartAsync(database, "worker", "s12-worker",
            new Dictionary<string, string> { ["WORKER_CONCURRENCY"] = SleepSlots.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        var (last, completed) = await Load.WaitForTerminalAsync(http, submit.Accepted, DrainTimeout(submit.Accepted));
        if (!completed) Line($"TIMED OUT: {last.Succeeded}/{submit.Accepted} succeeded when the wait ended");
        var row = (await db.RowsAsync(database,
            """
            SELECT count(*) FILTER (WHERE state = 'succeeded'),
                   (extract(epoch FROM max(finished_at) FILTER (WHERE state = 'succeeded') - @ready) * 1000)::float8,
                   (avg(extract(epoch FROM finished_at - started_at)) FILTER (WHERE state = 'succeeded') * 1000)::float8,
                   (percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - started_at) * 1000)
                       FILTER (WHERE state = 'succeeded'))::float8
            FROM jobs
            """, ("ready", worker.ReadyAtUtc)))[0];
        var succeeded = (long)row[0]!;
        var ms = (double)row[1]!;
        var rate = succeeded / (ms / 1000);
        Result($"{rate:F0} jobs/s from worker ready to the last success ({succeeded} succeeded in {ms / 1000:F1} s) = {rate / SleepIdealRate:P0} of the ideal {SleepIdealRate:F0} jobs/s ({SleepSlots} slots × 1,000 / {SleepMs} ms)");
        Line($"a job's started_at → finished_at: mean {(double)row[2]!:F1} ms, p99 {(double)row[3]!:F1} ms (the sleep itself is {SleepMs} ms); failed/cancelled: {last.Terminal - last.Succeeded}");
        _sleepRate = rate;
    }
}
