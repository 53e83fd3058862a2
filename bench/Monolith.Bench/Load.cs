using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;

namespace Monolith.Bench;

/// <summary>Outcome of many <c>POST /v1/jobs</c> (or <c>/v1/jobs/batch</c>) calls; counts are in jobs.</summary>
public sealed record SubmitResult(int Accepted, int Failed, TimeSpan Elapsed, double[] LatenciesMs, string? FirstError)
{
    public double Rate => Accepted / Elapsed.TotalSeconds;
}

/// <summary>HTTP load: N concurrent clients, each sending one POST at a time.</summary>
public static class Load
{
    public const string Noop = """{"type":"noop","payload":{}}""";

    public static string Sleep(int ms) => "{\"type\":\"sleep\",\"payload\":{\"ms\":" + ms.ToString(System.Globalization.CultureInfo.InvariantCulture) + "}}";

    /// <summary>A client of <paramref name="baseUrl"/> sending <paramref name="apiKey"/> (the admin key unless given).</summary>
    public static HttpClient Client(string baseUrl, string apiKey = Nodes.AdminKey)
    {
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = 256,
            PooledConnectionLifetime = TimeSpan.FromMinutes(10),
        };
        var client = new HttpClient(handler) { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        return client;
    }

    /// <summary>
    /// <paramref name="clients"/> concurrent loops, each posting one request at a time, until <paramref name="count"/>
    /// jobs were sent (when given) or <paramref name="duration"/> passed (when given). With <paramref name="batchSize"/>
    /// above 1 each request is a <c>POST /v1/jobs/batch</c> of that many copies of <paramref name="body"/>.
    /// </summary>
    public static async Task<SubmitResult> SubmitAsync(HttpClient http, string body, int clients, int? count, TimeSpan? duration, int batchSize = 1)
    {
        var (path, content) = batchSize == 1
            ? ("/v1/jobs", body)
            : ("/v1/jobs/batch", "{\"jobs\":[" + string.Join(',', Enumerable.Repeat(body, batchSize)) + "]}");
        if (count is { } total && total % batchSize != 0) throw new ArgumentException("count must be a multiple of batchSize");
        var requests = count / batchSize;
        var latencies = new ConcurrentBag<double>();
        var accepted = 0;
        var failed = 0;
        var issued = 0;
        string? firstError = null;
        var clock = Stopwatch.StartNew();

        async Task Loop()
        {
            while (true)
            {
                if (requests is { } n && Interlocked.Increment(ref issued) > n) return;
                if (duration is { } d && clock.Elapsed >= d) return;
                var error = await PostOnceAsync(http, path, content, latencies);
                if (error is null) Interlocked.Add(ref accepted, batchSize);
                else
                {
                    Interlocked.Add(ref failed, batchSize);
                    Interlocked.CompareExchange(ref firstError, error, null);
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(Loop)));
        var elapsed = clock.Elapsed;
        var sorted = latencies.ToArray();
        Array.Sort(sorted);
        return new SubmitResult(accepted, failed, elapsed, sorted, firstError);
    }

    /// <summary>
    /// Open-loop steady rate: one POST every 1/<paramref name="perSecond"/> s for <paramref name="duration"/>, each sent
    /// on its schedule whether or not earlier ones have answered.
    /// </summary>
    public static async Task<SubmitResult> SteadyAsync(HttpClient http, string body, int perSecond, TimeSpan duration)
    {
        var total = (int)(perSecond * duration.TotalSeconds);
        var latencies = new ConcurrentBag<double>();
        var accepted = 0;
        var failed = 0;
        string? firstError = null;
        var clock = Stopwatch.StartNew();
        var inflight = new List<Task>(total);
        for (var i = 0; i < total; i++)
        {
            var due = TimeSpan.FromSeconds(i / (double)perSecond);
            var wait = due - clock.Elapsed;
            if (wait > TimeSpan.FromMilliseconds(1)) await Task.Delay(wait);
            while (clock.Elapsed < due) Thread.SpinWait(50);
            inflight.Add(Task.Run(async () =>
            {
                var error = await PostOnceAsync(http, "/v1/jobs", body, latencies);
                if (error is null) Interlocked.Increment(ref accepted);
                else
                {
                    Interlocked.Increment(ref failed);
                    Interlocked.CompareExchange(ref firstError, error, null);
                }
            }));
        }
        await Task.WhenAll(inflight);
        var sorted = latencies.ToArray();
        Array.Sort(sorted);
        return new SubmitResult(accepted, failed, clock.Elapsed, sorted, firstError);
    }

    public sealed record Progress(long Total, long Succeeded, long Terminal, long Running);

    /// <summary>The job counts of every queue, summed, from <c>GET /v1/queues</c> (what an autoscaler or dashboard reads).</summary>
    public static async Task<Progress> ProgressAsync(HttpClient http)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync("/v1/queues"));
        long Sum(string state) => doc.RootElement.GetProperty("items").EnumerateArray().Sum(q => q.GetProperty("counts").GetProperty(state).GetInt64());
        long[] all = [Sum("scheduled"), Sum("queued"), Sum("running"), Sum("retrying"), Sum("succeeded"), Sum("failed"), Sum("cancelled")];
        return new Progress(all.Sum(), all[4], all[4] + all[5] + all[6], all[2]);
    }

    /// <summary>
    /// Polls <c>GET /v1/queues</c> every 100 ms until at least <paramref name="expected"/> jobs are terminal
    /// (succeeded/failed/cancelled) or the timeout passes. Returns the last progress seen and whether it completed.
    /// </summary>
    public static async Task<(Progress Last, bool Completed)> WaitForTerminalAsync(HttpClient http, long expected, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var last = await ProgressAsync(http);
            if (last.Terminal >= expected) return (last, true);
            if (clock.Elapsed > timeout) return (last, false);
            await Task.Delay(100);
        }
    }

    /// <summary>Nearest-rank percentile of an ascending array; NaN when empty.</summary>
    public static double Percentile(double[] sorted, double p)
    {
        if (sorted.Length == 0) return double.NaN;
        var rank = (int)Math.Ceiling(p / 100.0 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    /// <summary>One POST; records its latency when it answers. Returns null on 202, else what went wrong.</summary>
    private static async Task<string?> PostOnceAsync(HttpClient http, string path, string body, ConcurrentBag<double> latencies)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var content = new StringContent(body, Encoding.UTF8, "application/json");
            using var response = await http.PostAsync(path, content);
            latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return response.StatusCode == HttpStatusCode.Accepted
                ? null
                : $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return ex.Message;
        }
    }
}

/// <summary>
/// Samples /proc/&lt;pid&gt;/status VmRSS of some processes (Monolith nodes, a peer's process) every 200 ms and keeps
/// each one's peak, by <see cref="ChildProcess.Name"/>.
/// </summary>
public sealed class RssSampler : IAsyncDisposable
{
    private readonly IReadOnlyList<ChildProcess> _nodes;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly Dictionary<string, long> _peakKb = [];
    private readonly Dictionary<string, int> _samples = [];

    public RssSampler(IReadOnlyList<ChildProcess> nodes)
    {
        _nodes = nodes;
        _loop = Task.Run(LoopAsync);
    }

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            lock (_peakKb)
            {
                foreach (var node in _nodes)
                {
                    if (node.ReadStatusKb("VmRSS") is not { } kb) continue;
                    _peakKb[node.Name] = Math.Max(_peakKb.GetValueOrDefault(node.Name), kb);
                    _samples[node.Name] = _samples.GetValueOrDefault(node.Name) + 1;
                }
            }
            try
            {
                await Task.Delay(200, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public (long PeakKb, int Samples) Peak(string instanceId)
    {
        lock (_peakKb) return (_peakKb.GetValueOrDefault(instanceId), _samples.GetValueOrDefault(instanceId));
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }
}
