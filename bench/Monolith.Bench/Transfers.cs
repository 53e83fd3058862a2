using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Monolith.Bench;

/// <summary>Scenario 8 (issue 5): transfer_document's throughput beside curl's, to the same loopback receiver.</summary>
public sealed partial class Bench
{
    private const int TransferMegabytes = 1024;
    private const int Rounds = 3;
    private TransferFigures? _transfer;

    private async Task TransferAsync()
    {
        var database = await db.CreateDatabaseAsync("bench_s8_transfer");
        var work = Directory.CreateTempSubdirectory("monolith-bench-transfer-").FullName;
        await using var receiver = await Receiver.StartAsync();
        try
        {
            var file = Path.Combine(work, "document.bin");
            var sha256 = await WriteRandomFileAsync(file, TransferMegabytes);
            var size = (long)TransferMegabytes << 20;
            Line($"document: {TransferMegabytes:N0} MiB of random bytes, SHA-256 {sha256[..16]}…; receiver: Kestrel in the bench process, counts the body's bytes and discards them");

            var env = new Dictionary<string, string>
            {
                ["Storage__Root"] = Path.Combine(work, "store"),
                ["Uploads__MaxBytes"] = (2L << 30).ToString(CultureInfo.InvariantCulture),
            };
            await using var api = await StartAsync(database, "api", "s8-api", env);
            await using var worker = await StartAsync(database, "worker", "s8-worker", env);
            using var http = Load.Client(api.BaseUrl);
            http.Timeout = TimeSpan.FromMinutes(10);

            string uploadId;
            var uploadClock = Stopwatch.StartNew();
            await using (var content = File.OpenRead(file))
            {
                using var body = new StreamContent(content, 128 * 1024);
                body.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
                using var response = await http.PostAsync("/v1/uploads?filename=document.bin", body);
                var text = await response.Content.ReadAsStringAsync();
                if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"upload answered {(int)response.StatusCode}: {text}");
                using var created = System.Text.Json.JsonDocument.Parse(text);
                uploadId = created.RootElement.GetProperty("id").GetString()!;
                if (created.RootElement.GetProperty("sha256").GetString() != sha256) throw new InvalidOperationException("The upload's SHA-256 is not the file's.");
            }
            Line($"upload (POST /v1/uploads, raw body, streamed and hashed): {uploadClock.Elapsed.TotalSeconds:F2} s = {TransferMegabytes / uploadClock.Elapsed.TotalSeconds:F0} MB/s");

            _transfer = await TransferRoundsAsync(database, http, worker, receiver, uploadId, sha256, "curl -T",
                url => CurlPutAsync(["-T", file], url, size, receiver));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static async Task<string> SubmitTransferAsync(HttpClient http, string uploadId, string url)
    {
        var request = new { source = new { type = "upload", uploadId }, destination = new { type = "http", url, method = "PUT" } };
        using var response = await http.PostAsync("/v1/transfers",
            new StringContent(System.Text.Json.JsonSerializer.Serialize(request), System.Text.Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"POST /v1/transfers answered {(int)response.StatusCode}: {text}");
        using var created = System.Text.Json.JsonDocument.Parse(text);
        return created.RootElement.GetProperty("id").GetString()!;
    }

    /// <summary>What one transfer scenario measured: per-round ratios' median, the best rates, the worker's peak RSS.</summary>
    private sealed record TransferFigures(double MedianRatio, double BestTransfer, double BestCurl, double PeakRssMb);

    /// <summary>
    /// The rounds of a transfer scenario (8 and 13): <paramref name="curl"/> (answering MB/s) and a transfer_document of
    /// <paramref name="uploadId"/> to the same receiver take turns, <see cref="Rounds"/> times. The machine is shared, so
    /// each round's pair ran under about the same load and the verdict takes the median of the per-round ratios. The
    /// transfer's time is its job's started_at → finished_at; its SHA-256 and the bytes received are checked; the worker's
    /// RSS is sampled every 200 ms during each transfer, and the CPU time of the worker (and of <paramref name="storePid"/>,
    /// the store's server, during both sides) is reported per round, to see which process is the bottleneck.
    /// </summary>
    private async Task<TransferFigures> TransferRoundsAsync(string database, HttpClient http, ServiceProcess worker, Receiver receiver,
        string uploadId, string sha256, string curlName, Func<string, Task<double>> curl, int? storePid = null)
    {
        var size = (long)TransferMegabytes << 20;
        var idleKb = worker.ReadStatusKb("VmRSS") ?? 0;
        Line($"worker RSS before the first transfer (after start-up and the upload, which the api node took): {Mb(idleKb):F0} MB");
        var curlRuns = new List<double>();
        var transferRuns = new List<double>();
        var peaks = new List<long>();
        for (var round = 1; round <= Rounds; round++)
        {
            var storeCpu0 = storePid is { } sp ? ProcFs.CpuMs(sp) : null;
            curlRuns.Add(await curl(receiver.Url($"/curl-{round}")));
            var storeCpu1 = storePid is { } sp1 ? ProcFs.CpuMs(sp1) : null;

            var workerCpu0 = ProcFs.CpuMs(worker.Pid);
            await using var sampler = new RssSampler([worker]);
            var transferId = await SubmitTransferAsync(http, uploadId, receiver.Url($"/transfer-{round}"));
            var clock = Stopwatch.StartNew();
            while (true)
            {
                // Done when the job has recorded its outcome too (its finished_at is the end of the timing).
                using var doc = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync($"/v1/transfers/{transferId}"));
                var state = doc.RootElement.GetProperty("state").GetString()!;
                var jobState = doc.RootElement.GetProperty("job").GetProperty("state").GetString();
                if (state is "failed" or "cancelled" || jobState is "succeeded" or "failed" || clock.Elapsed > TimeSpan.FromMinutes(10)) break;
                await Task.Delay(100);
            }
            peaks.Add(sampler.Peak(worker.InstanceId).PeakKb);
            var workerCpu = ProcFs.CpuMs(worker.Pid) - workerCpu0;
            var storeCpu2 = storePid is { } sp2 ? ProcFs.CpuMs(sp2) : null;
            var row = (await db.RowsAsync(database,
                """
                SELECT t.state, t.sha256, t.bytes_moved, (extract(epoch FROM j.finished_at - j.started_at) * 1000)::float8
                FROM transfers t JOIN jobs j ON j.id = t.job_id WHERE t.id = @id
                """, ("id", Guid.Parse(transferId))))[0];
            if ((string)row[0]! != "completed" || (string?)row[1] != sha256 || (long)row[2]! != size || row[3] is not double ms)
            {
                throw new InvalidOperationException($"transfer {transferId}: {row[0]}, sha256 {row[1]}, {row[2]} bytes, {row[3]} ms");
            }
            if (receiver.Received($"/transfer-{round}") != size) throw new InvalidOperationException("The receiver did not get the whole document.");
            transferRuns.Add(TransferMegabytes / (ms / 1000));
            Line($"round {round}: {curlName} {curlRuns[^1]:F0} MB/s; transfer_document {transferRuns[^1]:F0} MB/s ({ms / 1000:F2} s, job started_at → finished_at; " +
                 $"SHA-256 verified, {size:N0} bytes received) = {transferRuns[^1] / curlRuns[^1]:P0} of curl; worker RSS peak {Mb(peaks[^1]):F0} MB; " +
                 $"CPU: worker {CpuShare(workerCpu, ms)} during the transfer" +
                 (storePid is null ? "" : $", store server {CpuShare(storeCpu1 - storeCpu0, TransferMegabytes / curlRuns[^1] * 1000)} during curl and {CpuShare(storeCpu2 - storeCpu1, ms)} during the transfer"));
        }
        var hwm = Mb(worker.ReadStatusKb("VmHWM")); // before a traced round: tracing takes memory of its own
        if (Environment.GetEnvironmentVariable("PROFILE_TRACE") == "1") await TracedTransferAsync(http, worker, uploadId, receiver);
        var ratios = transferRuns.Zip(curlRuns, (t, c) => t / c).Order().ToList();
        var median = ratios[ratios.Count / 2];
        var figures = new TransferFigures(median, transferRuns.Max(), curlRuns.Max(), Math.Max(Mb(peaks.Max()), hwm));
        Result($"transfer_document vs {curlName}, same receiver: median of the per-round ratios {median:P0} (best runs: {figures.BestTransfer:F0} MB/s vs {figures.BestCurl:F0} MB/s)");
        Result($"worker RSS: {Mb(idleKb):F0} MB before the first transfer, peak sampled {Mb(peaks.Max()):F0} MB (every 200 ms), kernel VmHWM {hwm:F0} MB " +
               $"(peak since start); per round {string.Join(", ", peaks.Select(p => $"{Mb(p):F0}"))} MB");
        return figures;
    }

    /// <summary>
    /// With <c>PROFILE_TRACE=1</c>: one more transfer, not counted, while dotnet-trace samples the worker's threads
    /// (as bench/profile.sh does; the tool is installed under .local/tools on first use); the methods where it spent
    /// most time go to the report. The trace is kept in .local/profile/.
    /// </summary>
    private async Task TracedTransferAsync(HttpClient http, ServiceProcess worker, string uploadId, Receiver receiver)
    {
        var tool = Path.Combine(repo, ".local", "tools", "dotnet-trace");
        if (!File.Exists(tool)) await RunAsync("dotnet", ["tool", "install", "--tool-path", Path.GetDirectoryName(tool)!, "dotnet-trace"]);
        var trace = Path.Combine(repo, ".local", "profile", $"{worker.InstanceId}.nettrace");
        Directory.CreateDirectory(Path.GetDirectoryName(trace)!);
        File.Delete(trace);
        var collect = RunAsync(tool, ["collect", "-p", worker.Pid.ToString(CultureInfo.InvariantCulture), "--profile", "dotnet-sampled-thread-time",
            "--duration", "00:00:00:03", "-o", trace]);
        await Task.Delay(1000); // the session's start-up, before the first byte
        var transferId = await SubmitTransferAsync(http, uploadId, receiver.Url("/traced"));
        await collect;
        var clock = Stopwatch.StartNew();
        while (receiver.Received("/traced") is null && clock.Elapsed < TimeSpan.FromMinutes(5)) await Task.Delay(100);
        var report = await RunAsync(tool, ["report", trace, "topN", "-n", "25"]);
        Line($"traced transfer {transferId} (PROFILE_TRACE=1, not counted; 3 s of dotnet-sampled-thread-time on the worker, {trace}); top methods by exclusive time:");
        _body.AppendLine().AppendLine("```").AppendLine(report.Trim()).AppendLine("```").AppendLine();
        Console.WriteLine(report);
    }

    /// <summary>CPU milliseconds over a wall-clock span, as a share of one core ("83 % of a core").</summary>
    private static string CpuShare(double? cpuMs, double wallMs) => cpuMs is { } c && wallMs > 0 ? $"{c / wallMs:P0} of a core" : "?";

    /// <summary>
    /// curl PUTting to <paramref name="url"/> with Content-Length and no <c>Expect: 100-continue</c>, its body given by
    /// <paramref name="source"/> (<c>-T file</c>); MB/s from curl's own total time.
    /// </summary>
    private static async Task<double> CurlPutAsync(string[] source, string url, long size, Receiver receiver)
    {
        var seconds = double.Parse(await RunAsync("curl", ["-sS", "-f", "-H", "Expect:", .. source, url, "-o", "/dev/null", "-w", "%{time_total}"]),
            CultureInfo.InvariantCulture);
        if (receiver.Received(new Uri(url).AbsolutePath) != size) throw new InvalidOperationException("The receiver did not get curl's whole upload.");
        return TransferMegabytes / seconds;
    }

    /// <summary>Runs a program to its end and answers its standard output; throws with its standard error if it fails.</summary>
    private static async Task<string> RunAsync(string program, string[] arguments)
    {
        var start = new ProcessStartInfo(program, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{program} failed ({process.ExitCode}): {await error}");
        return await output;
    }

    private static async Task<string> WriteRandomFileAsync(string path, int megabytes)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using var stream = File.Create(path);
        var block = new byte[1 << 20];
        for (var i = 0; i < megabytes; i++)
        {
            RandomNumberGenerator.Fill(block);
            hash.AppendData(block);
            await stream.WriteAsync(block);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>The destination: Kestrel on 127.0.0.1, reading each body to its end and counting it (201), nothing kept.</summary>
    private sealed class Receiver : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _received = new();

        private Receiver(WebApplication app)
        {
            _app = app;
            app.Run(async http =>
            {
                var buffer = new byte[128 * 1024];
                long total = 0;
                int read;
                while ((read = await http.Request.Body.ReadAsync(buffer)) > 0) total += read;
                _received[http.Request.Path] = total;
                http.Response.StatusCode = 201;
            });
        }

        public string BaseUrl { get; private set; } = "";

        public string Url(string path) => BaseUrl + path;

        public long? Received(string path) => _received.TryGetValue(path, out var n) ? n : null;

        public static async Task<Receiver> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseKestrel(o => o.Limits.MaxRequestBodySize = null).UseUrls("http://127.0.0.1:0");
            var receiver = new Receiver(builder.Build());
            await receiver._app.StartAsync();
            receiver.BaseUrl = receiver._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
            return receiver;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
