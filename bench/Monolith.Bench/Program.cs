using System.Diagnostics;
using System.Globalization;
using System.Text;
using Monolith.Tests.Features.Datasets;

namespace Monolith.Bench;

/// <summary>
/// Benchmark driver. Usage: <c>Monolith.Bench [--jobs N] [--concurrency N] [--peer-batch N] [--peer-rounds N] [--only 1,2,3,4,5,7,8,9,10,11,12,13,14] [--out RESULTS.md] [--command "..."]</c>.
/// With <c>--only</c>, an existing report is updated in place: the sections of the scenarios run (and the targets they measured)
/// are replaced, everything else is kept. Without it the report is written anew.
/// Needs DATABASE_URL (any database of the server; scenarios create their own) and a Release build of Monolith.Api.
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var options = Options.Parse(args);
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

        var databaseUrl = Environment.GetEnvironmentVariable("DATABASE_URL");
        if (string.IsNullOrWhiteSpace(databaseUrl))
        {
            Console.Error.WriteLine("DATABASE_URL is not set (postgres://postgres@127.0.0.1:PORT/DB).");
            return 2;
        }
        var repo = Repository.Root();
        var apiDll = Path.Combine(repo, "src", "Api", "bin", "Release", "net10.0", "Monolith.Api.dll");
        if (!File.Exists(apiDll))
        {
            Console.Error.WriteLine($"{apiDll} not found: dotnet build Monolith.sln -c Release first.");
            return 2;
        }
        // Ctrl+C / SIGTERM: take the nodes started so far down with the bench instead of leaving them running.
        using var sigint = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, _ => ChildProcess.KillAll());
        using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, _ => ChildProcess.KillAll());
        var runId = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        var logDir = Path.Combine(repo, "bench", "logs", runId);
        var bench = new Bench(new Db(databaseUrl), apiDll, logDir, options, repo);
        return await bench.RunAsync();
    }

}

public sealed record Options(int Jobs, int Concurrency, int PeerBatch, int PeerRounds, HashSet<string> Only, string? Out, string Command, List<string> Notes)
{
    public static Options Parse(string[] args)
    {
        var jobs = 20_000;
        var concurrency = 16;
        var peerBatch = 100;
        var peerRounds = 1;
        var only = new HashSet<string>();
        string? output = null;
        var command = "Monolith.Bench " + string.Join(' ', args);
        var notes = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--jobs": jobs = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--concurrency": concurrency = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--peer-batch": peerBatch = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--peer-rounds": peerRounds = Math.Max(1, int.Parse(args[++i], CultureInfo.InvariantCulture)); break;
                case "--only": foreach (var s in args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries)) only.Add(s.Trim()); break;
                case "--out": output = args[++i]; break;
                case "--command": command = args[++i]; break;
                case "--note": notes.Add(args[++i]); break;
                default: throw new ArgumentException($"Unknown argument {args[i]} (use --jobs N, --concurrency N, --peer-batch N, --peer-rounds N, --only 1,2,3,4,5,7,8,9,10,11,12,13, --out FILE, --command TEXT, --note TEXT).");
            }
        }
        return new Options(jobs, concurrency, peerBatch, peerRounds, only, output, command, notes);
    }

    public bool Runs(string scenario) => Only.Count == 0 || Only.Contains(scenario);
}

/// <summary>Runs the scenarios and writes the report.</summary>
public sealed partial class Bench(Db db, string apiDll, string logDir, Options options, string repo)
{
    private const int Clients = 16;
    private const int BatchSize = 1000;
    private const int BatchClients = 4;
    private readonly StringBuilder _body = new();
    private readonly List<(string Id, int Start)> _sectionStarts = [];
    private string _code = "?";
    private readonly DateTime _startedUtc = DateTime.UtcNow;
    private string _header = "";

    // Values for the targets table (null: not measured).
    private double? _drainRate;
    private string? _drainScenario, _latScenario;
    private double? _e2eAllRate, _e2eSplitRate;
    private double? _e2eBatchAllRate, _e2eBatchSplitRate;
    private double? _latP50, _latP99;
    private double? _recoveryRestartS, _recoveryAllS;
    private bool? _recoveryNothingLost;
    private double? _rssIdleMb, _rssLoadMb;
    private double? _parseRate, _copyRate, _parseRssMb;
    private double? _historyRate, _historyAgainRate;
    private long? _historyAttempts, _historyAgainAttempts;
    private const int DatasetLines = 2_000_000;

    public async Task<int> RunAsync()
    {
        // Read before the report is first written: the report itself (and docs/) are not changes to the code measured.
        _code = Git("rev-parse --short HEAD") +
                (Git("status --porcelain --untracked-files=no -- src bench :(exclude)bench/RESULTS.md").Length > 0 ? " with uncommitted changes in src/ or bench/" : "");
        _header = await HeaderAsync();
        Console.WriteLine(_header);
        var failures = 0;
        (string Id, string Title, Func<Task> Run)[] scenarios =
        [
            ("1", $"1. Submit rate (one api node, no worker, 10 s each: single submits from {Clients} clients, then batches of {BatchSize:N0} from {BatchClients} clients)", SubmitRateAsync),
            ("2", $"2. Drain ({options.Jobs:N0} noop jobs queued through the batch endpoint, then one worker node)", DrainAsync),
            ("3", $"3. End to end ({options.Jobs:N0} noop jobs: batches of {BatchSize:N0} from {BatchClients} clients, and single submits from {Clients} clients) + 6. worker RSS", EndToEndAsync),
            ("4", "4. Enqueue-to-start latency (50 jobs/s for 20 s, api node + one worker node)", LatencyAsync),
            ("5", "5. Recovery after SIGKILL (api + two workers, WORKER_CONCURRENCY=100, 100 sleep jobs of 20 s)", RecoveryAsync),
            ("7", $"7. Dataset parse (issue 4): a {DatasetLines:N0}-line yob file uploaded and parsed, beside psql \\copy of the same rows; " +
                  $"then (issue 11) the US national names history as one zip ({NamesHistory.Years} yearly files, {NamesHistory.RowCount:N0} rows), twice", DatasetParseAsync),
            ("8", $"8. Document transfer (issue 5): a {TransferMegabytes / 1024} GiB upload sent by transfer_document to an HTTP destination on loopback, beside curl -T of the same file to the same receiver", TransferAsync),
            ("9", $"9. Dashboard page times (issue 7): {DashboardJobs:N0} jobs in the table, one api node", DashboardPagesAsync),
            ("10", $"10. Beside pg-boss 12 (issue 12), same run and PostgreSQL: drain of {options.Jobs:N0} noop jobs with one worker, enqueue→start at 50 jobs/s, worker RSS", PeersAsync),
            ("11", $"11. Fair share (issue 12): one tenant's noop job behind another tenant's backlog of {FairnessBacklog:N0} sleep jobs of {SleepMs} ms, one worker node, {SleepSlots} slots", FairnessAsync),
            ("12", $"12. Short jobs on few slots (issue 12): {SleepJobs:N0} sleep jobs of {SleepMs} ms, one worker node, {SleepSlots} slots, against the ideal {SleepIdealRate:N0} jobs/s", SleepThroughputAsync),
            ("13", $"13. Document transfer from S3 (issue 14): a {TransferMegabytes / 1024} GiB pre-signed upload on s3rver (127.0.0.1) sent by transfer_document to an HTTP destination on loopback, beside curl GET of the same object piped to curl -T to the same receiver", S3TransferAsync),
            ("14", $"14. CSV import (issue 15): a {ImportRows:N0}-row CSV uploaded to POST /v1/imports and upserted into a snapshot, beside psql \\copy of the same file into a jsonb table", CsvImportAsync),
        ];
        foreach (var (id, title, run) in scenarios)
        {
            _sectionStarts.Add((id, _body.Length));
            if (!options.Runs(id))
            {
                Section(title);
                Line("not run in this invocation (--only).");
                continue;
            }
            Section(title);
            Line($"load average before: {LoadAvg()}");
            var clock = Stopwatch.StartNew();
            try
            {
                await run();
            }
            catch (Exception ex)
            {
                failures++;
                Line($"FAILED: {ex.GetType().Name}: {FirstLine(ex.Message)}");
                Console.Error.WriteLine(ex);
            }
            Line($"(scenario took {clock.Elapsed.TotalSeconds:F1} s; load average after: {LoadAvg()})");
            if (options.Only.Count > 0)
            {
                Line($"run separately: `{options.Command}` at {_startedUtc:yyyy-MM-dd HH:mm} UTC, code {_code}; the other scenarios' sections are from other runs");
            }
            await WriteReportAsync();
        }
        if (!Nodes.RestartedEarly.IsEmpty)
        {
            options.Notes.Add($"These nodes shut down gracefully right after start (exit code 0, as on SIGTERM) and were started again: {string.Join(", ", Nodes.RestartedEarly)}.");
        }
        await WriteReportAsync();
        Console.WriteLine($"Node logs: {logDir}");
        return failures == 0 ? 0 : 1;
    }

    // ---------------------------------------------------------------- scenarios

    private async Task SubmitRateAsync()
    {
        var database = await db.CreateDatabaseAsync("bench_s1_submit");
        await using var api = await StartAsync(database, "api", "s1-api");
        using var http = Load.Client(api.BaseUrl);
        var single = await Load.SubmitAsync(http, Load.Noop, Clients, count: null, duration: TimeSpan.FromSeconds(10));
        Result($"submit rate, single POST /v1/jobs from {Clients} clients: {single.Rate:F0} jobs/s ({single.Accepted} accepted in {single.Elapsed.TotalSeconds:F2} s, {single.Failed} failed)" +
               $"; request latency p50 {Load.Percentile(single.LatenciesMs, 50):F1} ms, p95 {Load.Percentile(single.LatenciesMs, 95):F1} ms, p99 {Load.Percentile(single.LatenciesMs, 99):F1} ms");
        if (single.FirstError is not null) Line($"first error: {single.FirstError}");
        var batch = await Load.SubmitAsync(http, Load.Noop, BatchClients, count: null, duration: TimeSpan.FromSeconds(10), BatchSize);
        Result($"submit rate, POST /v1/jobs/batch of {BatchSize:N0} from {BatchClients} clients: {batch.Rate:F0} jobs/s ({batch.Accepted} accepted in {batch.Elapsed.TotalSeconds:F2} s, {batch.Failed} failed)" +
               $"; request latency p50 {Load.Percentile(batch.LatenciesMs, 50):F1} ms, p95 {Load.Percentile(batch.LatenciesMs, 95):F1} ms");
        if (batch.FirstError is not null) Line($"first error: {batch.FirstError}");
    }

    /// <summary>What one drain measured (scenario 2, and each side of scenario 10); CPU and RSS are the worker process's.</summary>
    private sealed record DrainFigures(long Succeeded, double RateFromReady, double RateFromStart, double RateFirstToLast,
        double? WorkerCpuMsPerJob, double? ServerCpuMsPerJob, double PeakRssMb);

    private async Task DrainAsync() => await MonolithDrainAsync("s2");

    /// <summary>
    /// options.Jobs noop jobs queued through the batch endpoint with no worker running, then one worker node started;
    /// jobs/s from its /health/ready to the last success. Sets the drain target's value.
    /// </summary>
    private async Task<DrainFigures> MonolithDrainAsync(string tag)
    {
        var database = await db.CreateDatabaseAsync($"bench_{tag}_drain");
        await using var api = await StartAsync(database, "api", $"{tag}-api");
        using var http = Load.Client(api.BaseUrl);
        var submit = await Load.SubmitAsync(http, Load.Noop, BatchClients, options.Jobs, null, BatchSize);
        Line($"queued {submit.Accepted} jobs in {submit.Elapsed.TotalSeconds:F1} s ({submit.Rate:F0} jobs/s, {submit.Failed} failed) with no worker running");
        var before = await Load.ProgressAsync(http);
        Line($"before the worker starts: {before.Total} jobs, {before.Terminal} terminal (must be 0)");

        await using var worker = await StartAsync(database, "worker", $"{tag}-worker");
        Line($"worker process start → ready: {(worker.ReadyAtUtc - worker.StartedAtUtc).TotalSeconds:F2} s");
        var cpu = await CpuWindow.StartAsync(db, worker.Pid);
        Load.Progress last;
        bool completed;
        long peakKb;
        await using (var sampler = new RssSampler([worker]))
        {
            (last, completed) = await Load.WaitForTerminalAsync(http, submit.Accepted, DrainTimeout(submit.Accepted));
            peakKb = sampler.Peak(worker.InstanceId).PeakKb;
        }
        var (workerCpuMs, serverCpuMs) = cpu.Stop();
        if (!completed) Line($"TIMED OUT: {last.Succeeded}/{submit.Accepted} succeeded when the wait ended");
        var fromReady = await db.MsToLastSuccessAsync(database, worker.ReadyAtUtc);
        var fromStart = await db.MsToLastSuccessAsync(database, worker.StartedAtUtc);
        var row = (await db.RowsAsync(database,
            """
            SELECT count(*) FILTER (WHERE started_at < @ready),
                   (extract(epoch FROM max(finished_at) FILTER (WHERE state = 'succeeded') - min(started_at)) * 1000)::float8
            FROM jobs
            """, ("ready", worker.ReadyAtUtc)))[0];
        var rateReady = last.Succeeded / (fromReady!.Value / 1000);
        var rateStart = last.Succeeded / (fromStart!.Value / 1000);
        var rateFirstToLast = last.Succeeded / ((double)row[1]! / 1000);
        Result($"drain: {rateReady:F0} jobs/s measured from worker READY to the last success ({last.Succeeded} succeeded in {fromReady.Value / 1000:F2} s)");
        Result($"drain: {rateStart:F0} jobs/s measured from worker PROCESS START to the last success ({fromStart.Value / 1000:F2} s)");
        Line($"drain: {rateFirstToLast:F0} jobs/s from the first job's start to the last success");
        Line($"jobs started before /health/ready answered 200: {row[0]}; failed/cancelled: {last.Terminal - last.Succeeded}");
        var figures = new DrainFigures(last.Succeeded, rateReady, rateStart, rateFirstToLast,
            workerCpuMs / last.Succeeded, serverCpuMs / last.Succeeded, Mb(peakKb));
        Line($"CPU per job while draining (ready → all done): worker process {figures.WorkerCpuMsPerJob:F3} ms, PostgreSQL server {figures.ServerCpuMsPerJob:F3} ms" +
             $" (the api node's progress reads included); worker RSS peak {figures.PeakRssMb:F0} MB (sampled every 200 ms)");
        _drainRate = rateReady;
        _drainScenario = tag[1..];
        return figures;
    }

    private async Task EndToEndAsync()
    {
        // (a) one `all` node: batches, then single submits (each on a fresh database and node)
        foreach (var batched in new[] { true, false })
        {
            var how = batched ? "batch" : "single";
            var database = await db.CreateDatabaseAsync($"bench_s3a_e2e_all_{how}");
            await using var all = await StartAsync(database, "all", $"s3a-all-{how}");
            using var http = Load.Client(all.BaseUrl);
            var (rate, submit) = await EndToEndRunAsync(database, http, batched);
            if (all.HasExited)
            {
                Line($"INVALID: the `all` node exited during the run (see {all.LogPath}); the number below is not a throughput");
                rate = double.NaN;
            }
            Result($"3a end to end, one `all` node, {Describe(batched)}: {rate:F0} jobs/s (first submit → last success; submits alone ran at {submit.Rate:F0} jobs/s, " +
                   $"request p50 {Load.Percentile(submit.LatenciesMs, 50):F1} ms / p95 {Load.Percentile(submit.LatenciesMs, 95):F1} ms)");
            if (double.IsNaN(rate)) continue;
            if (batched) _e2eBatchAllRate = rate;
            else _e2eAllRate = rate;
        }
        // (b) one `api` + two `worker` nodes, with the workers' RSS sampled (scenario 6)
        foreach (var batched in new[] { true, false })
        {
            var how = batched ? "batch" : "single";
            var database = await db.CreateDatabaseAsync($"bench_s3b_e2e_split_{how}");
            await using var api = await StartAsync(database, "api", $"s3b-api-{how}");
            await using var w1 = await StartAsync(database, "worker", $"s3b-worker-1-{how}");
            await using var w2 = await StartAsync(database, "worker", $"s3b-worker-2-{how}");
            ServiceProcess[] workers = [w1, w2];
            await Task.Delay(TimeSpan.FromSeconds(10));
            var idleBefore = workers.Select(w => Mb(w.ReadStatusKb())).ToArray();
            Line($"6. worker RSS idle 10 s after ready (before any load): {string.Join(", ", workers.Select((w, i) => $"{w.InstanceId} {idleBefore[i]:F0} MB"))}");

            using var http = Load.Client(api.BaseUrl);
            double rate;
            SubmitResult submit;
            await using (var sampler = new RssSampler(workers))
            {
                (rate, submit) = await EndToEndRunAsync(database, http, batched);
                foreach (var w in workers)
                {
                    var (peak, samples) = sampler.Peak(w.InstanceId);
                    Result($"6. worker RSS peak under load (3b, {how}), {w.InstanceId}: {Mb(peak):F0} MB ({samples} samples every 200 ms; kernel VmHWM {Mb(w.ReadStatusKb("VmHWM")):F0} MB)");
                    _rssLoadMb = Math.Max(_rssLoadMb ?? 0, Mb(peak));
                }
            }
            foreach (var node in new[] { api, w1, w2 }.Where(n => n.HasExited))
            {
                Line($"INVALID: {node.InstanceId} exited during the run (see {node.LogPath})");
                rate = double.NaN;
            }
            var byNode = await db.RowsAsync(database, "SELECT node, count(*) FROM jobs WHERE state = 'succeeded' GROUP BY node ORDER BY node");
            Result($"3b end to end, one `api` + two `worker` nodes, {Describe(batched)}: {rate:F0} jobs/s (first submit → last success; submits alone ran at {submit.Rate:F0} jobs/s, " +
                   $"request p50 {Load.Percentile(submit.LatenciesMs, 50):F1} ms / p95 {Load.Percentile(submit.LatenciesMs, 95):F1} ms)");
            Line($"jobs per worker: {string.Join(", ", byNode.Select(r => $"{r[0]} {r[1]}"))}");
            if (!double.IsNaN(rate))
            {
                if (batched) _e2eBatchSplitRate = rate;
                else _e2eSplitRate = rate;
            }

            await Task.Delay(TimeSpan.FromSeconds(10));
            var idleAfter = workers.Select(w => Mb(w.ReadStatusKb())).ToArray();
            Result($"6. worker RSS idle 10 s after the load ended: {string.Join(", ", workers.Select((w, i) => $"{w.InstanceId} {idleAfter[i]:F0} MB"))}");
            _rssIdleMb = Math.Max(_rssIdleMb ?? 0, idleAfter.Concat(idleBefore).Max());
        }
    }

    private static string Describe(bool batched) => batched ? $"batches of {BatchSize:N0} from {BatchClients} clients" : $"single submits from {Clients} clients";

    /// <summary>Submits options.Jobs noop jobs and waits for all to end; jobs/s from the first submit to the last success.</summary>
    private async Task<(double Rate, SubmitResult Submit)> EndToEndRunAsync(string database, HttpClient http, bool batched)
    {
        var firstSubmit = DateTime.UtcNow;
        var submit = batched
            ? await Load.SubmitAsync(http, Load.Noop, BatchClients, options.Jobs, null, BatchSize)
            : await Load.SubmitAsync(http, Load.Noop, Clients, options.Jobs, null);
        if (submit.Failed > 0) Line($"{submit.Failed} submits failed (first: {submit.FirstError})");
        var (last, completed) = await Load.WaitForTerminalAsync(http, submit.Accepted, DrainTimeout(submit.Accepted));
        if (!completed) Line($"TIMED OUT: {last.Succeeded}/{submit.Accepted} succeeded when the wait ended");
        if (last.Terminal != last.Succeeded) Line($"{last.Terminal - last.Succeeded} jobs failed or were cancelled");
        var ms = await db.MsToLastSuccessAsync(database, firstSubmit) ?? double.NaN;
        Line($"{last.Succeeded} succeeded in {ms / 1000:F2} s from the first submit");
        return (last.Succeeded / (ms / 1000), submit);
    }

    /// <summary>What one latency run measured (scenario 4, and each side of scenario 10).</summary>
    private sealed record LatencyFigures(long Count, double P50, double P95, double P99, double Max, double IdleRssMb);

    private async Task LatencyAsync() => await MonolithLatencyAsync("s4");

    /// <summary>
    /// An api node and a worker node; the worker's RSS 10 s after both are ready; 500 jobs to warm up; then single submits
    /// at 50/s for 20 s and their started_at − created_at. Sets the latency target's values.
    /// </summary>
    private async Task<LatencyFigures> MonolithLatencyAsync(string tag)
    {
        var database = await db.CreateDatabaseAsync($"bench_{tag}_latency");
        await using var api = await StartAsync(database, "api", $"{tag}-api");
        await using var worker = await StartAsync(database, "worker", $"{tag}-worker");
        using var http = Load.Client(api.BaseUrl);
        await Task.Delay(IdleWait);
        var idleRss = Mb(worker.ReadStatusKb());
        Line($"worker RSS idle {IdleWait.TotalSeconds:F0} s after ready (before any job): {idleRss:F0} MB");

        var warm = await Load.SubmitAsync(http, Load.Noop, Clients, 500, null);
        var (_, warmed) = await Load.WaitForTerminalAsync(http, warm.Accepted, TimeSpan.FromSeconds(120));
        Line($"warm-up: {warm.Accepted} jobs submitted{(warmed ? " and all ended" : ", NOT all ended within 120 s")}");
        await Task.Delay(1000);

        var mark = DateTime.UtcNow;
        var steady = await Load.SteadyAsync(http, Load.Noop, 50, TimeSpan.FromSeconds(20));
        var (last, completed) = await Load.WaitForTerminalAsync(http, warm.Accepted + steady.Accepted, TimeSpan.FromSeconds(120));
        if (!completed) Line($"TIMED OUT waiting for the steady jobs: {last.Terminal}/{warm.Accepted + steady.Accepted} ended");
        var row = (await db.RowsAsync(database, """
            SELECT count(*),
                   percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY extract(epoch FROM started_at - created_at) * 1000),
                   (max(extract(epoch FROM started_at - created_at)) * 1000)::float8
            FROM jobs WHERE created_at >= @mark AND started_at IS NOT NULL
            """, ("mark", mark)))[0];
        var p = (double[])row[1]!;
        Result($"enqueue→start (started_at - created_at, {row[0]} jobs at 50/s over {steady.Elapsed.TotalSeconds:F1} s): " +
               $"p50 {p[0]:F1} ms, p95 {p[1]:F1} ms, p99 {p[2]:F1} ms, max {(double)row[2]!:F1} ms");
        Line($"submit request latency at 50/s: p50 {Load.Percentile(steady.LatenciesMs, 50):F1} ms, p95 {Load.Percentile(steady.LatenciesMs, 95):F1} ms ({steady.Failed} failed)");
        _latP50 = p[0];
        _latP99 = p[2];
        _latScenario = tag[1..];
        return new LatencyFigures((long)row[0]!, p[0], p[1], p[2], (double)row[2]!, idleRss);
    }

    /// <summary>How long a worker sits idle after it is ready before its idle RSS is read.</summary>
    private static readonly TimeSpan IdleWait = TimeSpan.FromSeconds(10);

    private async Task RecoveryAsync()
    {
        const int count = 100;
        var database = await db.CreateDatabaseAsync("bench_s5_recovery");
        var env = new Dictionary<string, string> { ["WORKER_CONCURRENCY"] = "100" };
        await using var api = await StartAsync(database, "api", "s5-api");
        await using var w1 = await StartAsync(database, "worker", "s5-worker-1", env);
        await using var w2 = await StartAsync(database, "worker", "s5-worker-2", env);
        using var http = Load.Client(api.BaseUrl);

        var submit = await Load.SubmitAsync(http, Load.Sleep(20_000), Clients, count, null);
        if (submit.Accepted != count) throw new InvalidOperationException($"only {submit.Accepted}/{count} sleep jobs accepted ({submit.FirstError})");
        var clock = Stopwatch.StartNew();
        Load.Progress progress;
        do
        {
            await Task.Delay(100);
            progress = await Load.ProgressAsync(http);
        } while (progress.Running < count && clock.Elapsed < TimeSpan.FromSeconds(15));
        Line($"{progress.Running}/{count} running {clock.Elapsed.TotalSeconds:F1} s after the last submit");
        if (progress.Running < count) Line("NOT all 100 were running within 15 s; killing anyway");

        var perNode = await db.RowsAsync(database, "SELECT node, count(*) FROM jobs WHERE state = 'running' GROUP BY node ORDER BY count(*) DESC, node");
        Line($"running per node: {string.Join(", ", perNode.Select(r => $"{r[0]} {r[1]}"))}");
        var victimId = (string)perNode[0][0]!;
        var victim = victimId == w1.InstanceId ? w1 : w2;
        var killedIds = (await db.RowsAsync(database, "SELECT id FROM jobs WHERE state = 'running' AND node = @node", ("node", victimId)))
            .Select(r => (Guid)r[0]!).ToArray();

        var killedAt = DateTime.UtcNow;
        victim.Kill();
        Line($"SIGKILL {victim.InstanceId} (pid {victim.Pid}) running {killedIds.Length} jobs");

        var (last, completed) = await Load.WaitForTerminalAsync(http, count, TimeSpan.FromSeconds(150));
        if (!completed) Line($"TIMED OUT: {last.Terminal}/{count} ended 150 s after the kill");
        var row = (await db.RowsAsync(database, """
            SELECT count(*) FILTER (WHERE state = 'succeeded'),
                   count(*) FILTER (WHERE attempt > 1),
                   (extract(epoch FROM max(finished_at) - @killed) * 1000)::float8,
                   (extract(epoch FROM max(started_at) FILTER (WHERE id = ANY(@ids)) - @killed) * 1000)::float8,
                   count(*) FILTER (WHERE id = ANY(@ids) AND started_at > @killed),
                   string_agg(DISTINCT state, ',')
            FROM jobs
            """, ("killed", killedAt), ("ids", killedIds)))[0];
        var succeeded = (long)row[0]!;
        var retried = (long)row[1]!;
        var allMs = row[2] as double?;
        var restartMs = row[3] as double?;
        var restarted = (long)row[4]!;
        var lost = (await db.RowsAsync(database, "SELECT count(*) FROM job_attempts WHERE outcome = 'lost'"))[0][0];
        Result($"recovery: last killed job restarted {restartMs / 1000:F2} s after the SIGKILL ({restarted}/{killedIds.Length} killed jobs restarted)");
        Result($"recovery: all {count} succeeded {allMs / 1000:F2} s after the SIGKILL (includes the 20 s re-run of the restarted jobs)");
        Result($"recovery: {succeeded}/{count} succeeded, {retried} with attempt > 1, {lost} 'lost' attempt records, states seen: {row[5]}" +
               $" → {(succeeded == count ? "nothing lost" : "JOBS LOST OR UNFINISHED")}");
        _recoveryRestartS = restartMs / 1000;
        _recoveryAllS = allMs / 1000;
        _recoveryNothingLost = succeeded == count && restarted == killedIds.Length;
    }

    private async Task DatasetParseAsync()
    {
        var database = await db.CreateDatabaseAsync("bench_s7_dataset");
        var work = Directory.CreateTempSubdirectory("monolith-bench-dataset-").FullName;
        try
        {
            var env = new Dictionary<string, string> { ["Storage__Root"] = Path.Combine(work, "store") };
            await using var api = await StartAsync(database, "api", "s7-api", env);
            await using var worker = await StartAsync(database, "worker", "s7-worker", env);
            using var http = Load.Client(api.BaseUrl);

            // The same rows twice: a yob file for the service, a CSV of name_records columns for psql.
            var perSex = DatasetLines / 2;
            var yob = Path.Combine(work, "yob2000.txt");
            var csv = Path.Combine(work, "rows.csv");
            var copyDataset = Guid.NewGuid();
            var tenant = Guid.Parse("00000000-0000-0000-0000-000000000001");
            await using (var y = new StreamWriter(yob))
            await using (var c = new StreamWriter(csv))
            {
                foreach (var sex in new[] { "F", "M" })
                {
                    for (var i = 0; i < perSex; i++)
                    {
                        var name = SyntheticName(i);
                        await y.WriteAsync($"{name},{sex},{perSex + 5 - i}\r\n");
                        await c.WriteAsync($"{copyDataset},{tenant},US,2000,{sex},{name},{perSex + 5 - i},name\n");
                    }
                }
            }
            Line($"yob file: {new FileInfo(yob).Length / 1024.0 / 1024.0:F1} MB, {DatasetLines:N0} lines");

            var uploadClock = Stopwatch.StartNew();
            var id = await PostFileAsync(http, "/v1/datasets", yob, "yob2000.txt", ("country", "US"));
            Line($"upload (streamed to the file store, dataset row, parse_dataset job): {uploadClock.Elapsed.TotalSeconds:F2} s");

            string state;
            await using (var sampler = new RssSampler([worker]))
            {
                state = await WaitForStateAsync(http, $"/v1/datasets/{id}", TimeSpan.FromMinutes(5), TimeSpan.FromMilliseconds(100), "completed", "failed");
                _parseRssMb = Mb(sampler.Peak(worker.InstanceId).PeakKb);
            }
            var row = (await db.RowsAsync(database,
                """
                SELECT d.rows_inserted, (extract(epoch FROM j.finished_at - j.started_at) * 1000)::float8
                FROM datasets d JOIN jobs j ON j.id = d.job_id WHERE d.id = @id
                """,
                ("id", Guid.Parse(id))))[0];
            var inserted = Convert.ToInt64(row[0]);
            var parseMs = row[1] as double? ?? double.NaN;
            _parseRate = inserted / (parseMs / 1000);
            Result($"parse_dataset: {state}, {inserted:N0} rows in {parseMs / 1000:F2} s = {_parseRate:F0} rows/s (the parse_dataset job's started_at → finished_at: read, parse, binary COPY, commit)");
            Result($"worker RSS peak during the parse: {_parseRssMb:F0} MB");

            var copyS = await PsqlAsync(database,
                $"\\copy name_records (dataset_id, tenant_id, country, year, sex, name, count, kind) FROM '{csv}' WITH (FORMAT csv)");
            _copyRate = DatasetLines / copyS;
            Result($"psql \\copy of the same {DatasetLines:N0} rows into name_records (CSV, same database and indexes): {copyS:F2} s = {_copyRate:F0} rows/s" +
                   $" → parse_dataset runs at {_parseRate / _copyRate:P0} of \\copy");

            // Issue 11: the 145-year zip at real size, in one attempt; then the next edition over it (the supersede of
            // every year, which ran past Npgsql's 30 s default at every attempt before).
            var zip = Path.Combine(work, "names.zip");
            NamesHistory.WriteZip(zip);
            Line($"names.zip: {new FileInfo(zip).Length / 1024.0 / 1024.0:F1} MB, {NamesHistory.Years} yearly files, {NamesHistory.RowCount:N0} rows (generated: tests/Monolith.Tests/Features/Datasets/NamesHistory.cs)");
            (_historyRate, _historyAttempts) = await IngestHistoryAsync(http, database, zip, "first upload (no older records)");
            (_historyAgainRate, _historyAgainAttempts) = await IngestHistoryAsync(http, database, zip, "the same zip again, superseding every year of the first");
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>Uploads the names history zip, waits for its parse, and reports its rate (job started_at → finished_at) and attempts.</summary>
    private async Task<(double Rate, long Attempts)> IngestHistoryAsync(HttpClient http, string database, string zip, string what)
    {
        var id = await PostFileAsync(http, "/v1/datasets", zip, "names.zip", ("country", "US"));
        var clock = Stopwatch.StartNew();
        var state = await WaitForStateAsync(http, $"/v1/datasets/{id}", TimeSpan.FromMinutes(15), TimeSpan.FromMilliseconds(200), "completed", "failed");
        // The job's outcome is recorded just after the dataset's commit: wait for it too.
        object?[] row;
        while (true)
        {
            row = (await db.RowsAsync(database,
                """
                SELECT d.rows_inserted, (extract(epoch FROM j.finished_at - j.started_at) * 1000)::float8,
                       (SELECT count(*) FROM job_attempts a WHERE a.job_id = j.id), d.error, j.finished_at IS NOT NULL
                FROM datasets d JOIN jobs j ON j.id = d.job_id WHERE d.id = @id
                """,
                ("id", Guid.Parse(id))))[0];
            if ((bool)row[4]! || clock.Elapsed > TimeSpan.FromMinutes(16)) break;
            await Task.Delay(200);
        }
        var inserted = Convert.ToInt64(row[0]);
        var seconds = (row[1] as double? ?? double.NaN) / 1000;
        var attempts = Convert.ToInt64(row[2]);
        var rate = inserted / seconds;
        Result($"names.zip, {what}: {state} at attempt {attempts}, {inserted:N0} rows in {seconds:F2} s = {rate:F0} rows/s" +
               (state == "completed" ? "" : $" ({row[3]})"));
        if (state != "completed" || attempts != 1) throw new InvalidOperationException($"names.zip ({what}) ended {state} after {attempts} attempt(s)");
        return (rate, attempts);
    }

    /// <summary>The i-th distinct name made of letters (Baa, Bab, …).</summary>
    private static string SyntheticName(int i)
    {
        var letters = new StringBuilder();
        for (var n = i + 26 * 26; n > 0; n /= 26) letters.Insert(0, (char)('a' + n % 26));
        return char.ToUpperInvariant(letters[0]) + letters.ToString(1, letters.Length - 1);
    }

    // ---------------------------------------------------------------- helpers

    /// <summary>Starts a node; WORKER_CONCURRENCY is the bench's --concurrency unless <paramref name="env"/> sets it.</summary>
    private Task<ServiceProcess> StartAsync(string database, string type, string instance, IDictionary<string, string>? env = null)
    {
        var settings = new Dictionary<string, string> { ["WORKER_CONCURRENCY"] = options.Concurrency.ToString(CultureInfo.InvariantCulture) };
        foreach (var (key, value) in env ?? new Dictionary<string, string>()) settings[key] = value;
        return Nodes.StartAsync(apiDll, logDir, db.Url(database), type, instance, settings);
    }

    /// <summary>Generous: 60 s plus 1/15 s per job (15 jobs/s at worst).</summary>
    private static TimeSpan DrainTimeout(int jobs) => TimeSpan.FromSeconds(60 + jobs / 15.0);

    private static double Mb(long? kb) => kb is { } v ? v / 1024.0 : double.NaN;

    private static string FirstLine(string s) => s.Split('\n')[0];

    private static string LoadAvg()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) +
                   $" ({Nodes.ForeignProcesses()} other Monolith node/test-host processes running)";
        }
        catch (IOException)
        {
            return "?";
        }
    }

    private void Section(string title)
    {
        _body.AppendLine().AppendLine($"### {title}").AppendLine();
        Console.WriteLine();
        Console.WriteLine($"== {title}");
    }

    private void Line(string text)
    {
        _body.AppendLine($"- {text}");
        Console.WriteLine($"   {text}");
    }

    private void Result(string text)
    {
        _body.AppendLine($"- **{text}**");
        Console.WriteLine($"RESULT {text}");
    }

    private async Task<string> HeaderAsync()
    {
        var cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?";
        var memKb = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        var pgVersion = await db.ScalarTextAsync("postgres", "SELECT version()");
        var settings = await db.RowsAsync("postgres",
            "SELECT name, setting, coalesce(unit, '') FROM pg_settings WHERE name IN ('fsync','synchronous_commit','shared_buffers','max_connections','wal_level') ORDER BY name");
        string Setting(object?[] r)
        {
            var name = (string)r[0]!;
            var value = (string)r[1]!;
            var unit = (string)r[2]!;
            // shared_buffers is reported in 8kB pages.
            if (name == "shared_buffers" && unit == "8kB") return $"{name}={long.Parse(value, CultureInfo.InvariantCulture) * 8 / 1024} MB";
            return $"{name}={value}{(unit.Length > 0 ? " " + unit : "")}";
        }
        var sb = new StringBuilder();
        sb.AppendLine("# Monolith benchmark results");
        sb.AppendLine();
        sb.AppendLine("> Written by `bench/Monolith.Bench` (run through `bench/run.sh`); rerun to replace. The numbers from before the");
        sb.AppendLine("> scale-out work (one Quartz trigger per job) are kept in `bench/RESULTS-baseline.md`; docs/performance.md compares them.");
        sb.AppendLine();
        sb.AppendLine("## Run");
        sb.AppendLine();
        sb.AppendLine($"- date: {_startedUtc:yyyy-MM-dd HH:mm:ss} UTC");
        sb.AppendLine($"- command: `{options.Command}`");
        sb.AppendLine($"- job count N (`--jobs`): {options.Jobs:N0} (scenarios 2 and 3)");
        sb.AppendLine($"- WORKER_CONCURRENCY (`--concurrency`): {options.Concurrency} on every node (the service's default is 8; the peers in the issue ran 8–16 workers), except scenario 5 (100)");
        sb.AppendLine($"- code: {Git("rev-parse --short HEAD")}{(Git("status --porcelain --untracked-files=no -- src").Length > 0 ? " with uncommitted changes in src/" : "")}");
        sb.AppendLine($"- machine: nproc {Environment.ProcessorCount}, memory {long.Parse(memKb, CultureInfo.InvariantCulture) / 1024 / 1024.0:F1} GiB, CPU {cpu}");
        sb.AppendLine($"- .NET: {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}; nodes run as `dotnet src/Api/bin/Release/net10.0/Monolith.Api.dll`, default settings except where a scenario says");
        sb.AppendLine($"- PostgreSQL: {pgVersion}");
        sb.AppendLine($"- PostgreSQL settings: {string.Join(", ", settings.Select(Setting))}");
        sb.AppendLine($"- everything (PostgreSQL, nodes, load generator) runs on this one machine; each scenario uses a fresh database made with CREATE DATABASE");
        sb.AppendLine($"- load average at start: {LoadAvg()}");
        return sb.ToString();
    }

    private string Git(string arguments)
    {
        try
        {
            var start = new ProcessStartInfo("git", arguments) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = repo };
            using var p = Process.Start(start)!;
            var output = p.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit();
            return output;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "?";
        }
    }

    private static string Verdict(bool? met) => met switch { true => "met", false => "**not met**", null => "not measured" };

    /// <summary>One row of the targets table: its first cell (the key a merge finds it by), the row, and whether this run measured it.</summary>
    public sealed record TargetRow(string Key, string Line, bool Measured);

    private List<TargetRow> TargetRows()
    {
        var rows = new List<TargetRow>();
        void Row(string key, string goal, string measured, string verdict, bool wasMeasured) =>
            rows.Add(new TargetRow(key, $"| {key} | {goal} | {measured} | {verdict} |", wasMeasured));

        Row("drain", "≥ 12,000 jobs/s", $"{Num(_drainRate, "jobs/s")} (from worker ready{(_drainScenario is null ? "" : ", scenario " + _drainScenario)})",
            Verdict(_drainRate is { } d ? d >= 12_000 : null), _drainRate is not null);
        Row("drain beside pg-boss, same run", "≥ 1.1× pg-boss",
            $"Monolith {Num(_drainRate, "jobs/s")}, pg-boss {Num(_peerDrainRate, "jobs/s")}{RatioText(_drainRate, _peerDrainRate)} (scenario 10)",
            Verdict(_drainRate is { } md && _peerDrainRate is { } pd ? md >= 1.1 * pd : null), _peerDrainRate is not null);
        var batchE2e = new[] { _e2eBatchAllRate, _e2eBatchSplitRate }.Where(v => v is not null).Select(v => v!.Value).ToArray();
        Row("end to end, batch submit", "≥ 10,000 jobs/s", $"one `all` node {Num(_e2eBatchAllRate, "jobs/s")}; api + 2 workers {Num(_e2eBatchSplitRate, "jobs/s")}",
            $"{Verdict(batchE2e.Length == 0 ? null : batchE2e.Any(v => v >= 10_000))} (best of the two)", batchE2e.Length > 0);
        var e2e = new[] { _e2eAllRate, _e2eSplitRate }.Where(v => v is not null).Select(v => v!.Value).ToArray();
        Row("end to end, single submits, 16 clients", "≥ 2,000 jobs/s", $"one `all` node {Num(_e2eAllRate, "jobs/s")}; api + 2 workers {Num(_e2eSplitRate, "jobs/s")}",
            $"{Verdict(e2e.Length == 0 ? null : e2e.Any(v => v >= 2_000))} (best of the two)", e2e.Length > 0);
        Row("enqueue→start across processes at 50/s", "p50 ≤ 3 ms, p99 ≤ 10 ms",
            $"p50 {Num(_latP50, "ms")}, p99 {Num(_latP99, "ms")}{(_latScenario is null ? "" : " (scenario " + _latScenario + ")")}",
            Verdict(_latP50 is { } a && _latP99 is { } b ? a <= 3 && b <= 10 : null), _latP50 is not null);
        Row("enqueue→start beside pg-boss, same run", "below pg-boss's p50 and p99",
            $"Monolith p50 {Num(_latP50, "ms")} / p99 {Num(_latP99, "ms")}, pg-boss p50 {Num(_peerLatP50, "ms")} / p99 {Num(_peerLatP99, "ms")} (scenario 10)",
            Verdict(_latP50 is { } m50 && _latP99 is { } m99 && _peerLatP50 is { } p50 && _peerLatP99 is { } p99 ? m50 < p50 && m99 < p99 : null), _peerLatP50 is not null);
        Row("recovery after SIGKILL", "≤ 10 s, nothing lost",
            $"last killed job restarted after {Num(_recoveryRestartS, "s")}; all succeeded after {Num(_recoveryAllS, "s")}; " +
            $"{(_recoveryNothingLost switch { true => "nothing lost", false => "JOBS LOST/UNFINISHED", null => "?" })}",
            $"{Verdict(_recoveryRestartS is { } r && _recoveryNothingLost is { } nl ? r <= 10 && nl : null)} (judged on the restart time)", _recoveryRestartS is not null);
        Row("worker RSS idle", "≤ 100 MB", $"{Num(_rssIdleMb, "MB")} (highest idle sample)", Verdict(_rssIdleMb is { } i ? i <= 100 : null), _rssIdleMb is not null);
        Row("worker RSS under load", "≤ 150 MB", $"{Num(_rssLoadMb, "MB")} (peak, 3b)", Verdict(_rssLoadMb is { } l ? l <= 150 : null), _rssLoadMb is not null);
        Row($"one tenant's job behind another's backlog of {FairnessBacklog:N0}", "starts within 250 ms",
            $"{(_fairnessDelayMs is > 10_000 ? Num(_fairnessDelayMs / 1000, "s") : Num(_fairnessDelayMs, "ms"))} (scenario 11)", Verdict(_fairnessDelayMs is { } f ? f <= 250 : null), _fairnessDelayMs is not null);
        Row($"{SleepJobs:N0} sleep jobs of {SleepMs} ms, one node, {SleepSlots} slots", $"≥ 90 % of the ideal {SleepIdealRate:N0} jobs/s",
            $"{Num(_sleepRate, "jobs/s")}{(_sleepRate is { } sr ? $" = {sr / SleepIdealRate:P0} of the ideal" : "")} (scenario 12)",
            Verdict(_sleepRate is { } s ? s >= 0.9 * SleepIdealRate : null), _sleepRate is not null);
        Row("dataset parse vs psql \\copy (issue 4)", "≥ 0.8×", $"{Num(_parseRate, "rows/s")} vs {Num(_copyRate, "rows/s")}",
            Verdict(_parseRate is { } pr && _copyRate is { } cr ? pr >= 0.8 * cr : null), _parseRate is not null);
        Row("CSV import vs psql \\copy into jsonb (issue 15)", "reported beside \\copy (no target)",
            $"{Num(_importRate, "rows/s")} vs {Num(_importCopyRate, "rows/s")}{RatioText(_importRate, _importCopyRate)}, worker RSS peak {Num(_importRssMb, "MB")} (scenario 14)",
            "reported", _importRate is not null);
        Row("worker RSS while parsing (issue 4)", "< 200 MB", Num(_parseRssMb, "MB"), Verdict(_parseRssMb is { } pm ? pm < 200 : null), _parseRssMb is not null);
        Row($"145-year names zip, {NamesHistory.RowCount:N0} rows (issue 11)", "one attempt, first upload and over itself",
            $"{Num(_historyRate, "rows/s")} at attempt {_historyAttempts?.ToString() ?? "—"}; over itself {Num(_historyAgainRate, "rows/s")} at attempt {_historyAgainAttempts?.ToString() ?? "—"}",
            Verdict(_historyAttempts is { } ha && _historyAgainAttempts is { } hb ? ha == 1 && hb == 1 : null), _historyAttempts is not null);
        void TransferRows(string ratioKey, string rssKey, string rssGoal, Func<double, bool> rssMet, TransferFigures? f, string source)
        {
            Row(ratioKey, "≥ 0.9×",
                $"median per-round ratio {(f is null ? "—" : f.MedianRatio.ToString("P0"))} (best {Num(f?.BestTransfer, "MB/s")} vs {Num(f?.BestCurl, "MB/s")}{source})",
                Verdict(f is null ? null : f.MedianRatio >= 0.9), f is not null);
            Row(rssKey, rssGoal, Num(f?.PeakRssMb, "MB"), Verdict(f is null ? null : rssMet(f.PeakRssMb)), f is not null);
        }
        TransferRows("transfer vs curl -T, 1 GiB on loopback (issue 5)", "worker peak RSS while transferring (issue 5)", "< 150 MB", mb => mb < 150, _transfer, "");
        TransferRows("transfer from S3 vs curl GET piped to curl -T, 1 GiB on loopback (issue 14)", "worker peak RSS while transferring from S3 (issue 14)",
            "≤ 150 MB", mb => mb <= 150, _s3Transfer, "; scenario 13");
        return rows;
    }

    private static string RatioText(double? a, double? b) => a is { } x && b is { } y && y > 0 ? $" = {x / y:F2}×" : "";

    private string Targets()
    {
        var sb = new StringBuilder();
        sb.AppendLine("## Targets (from the issue)");
        sb.AppendLine();
        sb.AppendLine("| target | goal | measured | verdict |");
        sb.AppendLine("|---|---|---|---|");
        foreach (var row in TargetRows()) sb.AppendLine(row.Line);
        return sb.ToString();
    }

    private static string Num(double? v, string unit) => v is { } x && !double.IsNaN(x) ? $"{x:N1} {unit}" : "—";

    /// <summary>
    /// Writes the report. Without <c>--only</c>, the whole file anew. With <c>--only</c> and a report already there, only
    /// what this run measured changes: the sections of the scenarios it ran, and the targets rows it has values for
    /// (<see cref="ReportMerge"/>); the rest (other scenarios' figures, notes added by hand) stays.
    /// </summary>
    private async Task WriteReportAsync()
    {
        if (options.Out is null) return;
        if (options.Only.Count > 0 && File.Exists(options.Out))
        {
            var sections = _sectionStarts.Select((s, i) =>
                (s.Id, _body.ToString(s.Start, (i + 1 < _sectionStarts.Count ? _sectionStarts[i + 1].Start : _body.Length) - s.Start)))
                .Where(s => options.Runs(s.Id))
                .ToList();
            var existing = await File.ReadAllTextAsync(options.Out);
            await File.WriteAllTextAsync(options.Out, ReportMerge.Merge(existing, sections, TargetRows()));
            return;
        }
        var text = new StringBuilder()
            .Append(_header)
            .AppendLine()
            .Append(Targets())
            .AppendLine()
            .AppendLine("## Scenarios")
            .Append(_body)
            .AppendLine()
            .AppendLine("## How the numbers are taken")
            .AppendLine()
            .AppendLine("- Submits are single `POST /v1/jobs` calls, each client sending its next one when the previous answers (closed loop); 202 counts as accepted.")
            .AppendLine("- Progress is polled every 100 ms from `GET /v1/queues` (admin key: every tenant's counts). Drain and end-to-end times end at `max(finished_at)` of the succeeded jobs, read by SQL once all are done; the start instant is taken on the bench's clock (same machine and clock as PostgreSQL and the nodes).")
            .AppendLine("- Enqueue→start is `started_at - created_at` from SQL: `created_at` is set by the api node just before its insert, `started_at` is `now()` of the worker's claim transaction, so it includes the submit's own insert and commit, the NOTIFY and the worker's wake-up to its claim.")
            .AppendLine("- Recovery: the worker running the most jobs is killed with SIGKILL (Process.Kill); \"restarted\" is the `started_at` of a killed job's final attempt (the reclaim sets it); \"all succeeded\" necessarily includes the 20 s the restarted jobs run again.")
            .AppendLine("- RSS is VmRSS from /proc/<pid>/status of the `dotnet` process running the node (the app runs in that process), sampled every 200 ms; VmHWM is the kernel's own peak.")
            .AppendLine("- CPU per job (scenario 2 and 10) is utime + stime from /proc/<pid>/stat of the worker process, and of the whole PostgreSQL server (the postmaster, the backends it reaped and its live children), from the worker's ready to the last job's end, divided by the jobs.")
            .AppendLine("- Scenario 10 runs pg-boss (bench/peers) on the same PostgreSQL server, in a database of its own; pg-boss's drain times end at `max(completed_on)`, its enqueue→start is `started_on - created_on`.")
            .AppendLine("- The load average is printed around each scenario: a high value before a scenario means something else was using the machine.")
            .ToString();
        var notes = options.Notes.Count == 0 ? "" : "\n## Notes\n\n" + string.Join('\n', options.Notes.Select(n => $"- {n}")) + "\n";
        await File.WriteAllTextAsync(options.Out, text + notes);
    }
}
