using System.Diagnostics;
using Monolith.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace Monolith.Tests.Processes;

/// <summary>
/// The multi-process tests start several nodes each and measure timings: they run one class at a time, after
/// the in-process tests, so that nothing else competes for the machine.
/// </summary>
[CollectionDefinition("Processes", DisableParallelization = true)]
public sealed class ProcessesCollection;

/// <summary>One node to start: its SERVICE_TYPE, INSTANCE_ID and any further variables.</summary>
public sealed record NodeSpec(string ServiceType, string InstanceId, IDictionary<string, string>? Env = null);

/// <summary>
/// The nodes of one test (or fixture) on one database: started in parallel, all disposed together, and their
/// last log lines printed when a test fails.
/// </summary>
public sealed class ProcessGroup : IAsyncDisposable
{
    private readonly List<ServiceProcess> _nodes = [];

    public ProcessGroup(string databaseUrl) => DatabaseUrl = databaseUrl;

    public string DatabaseUrl { get; }

    public IReadOnlyList<ServiceProcess> Nodes
    {
        get { lock (_nodes) return _nodes.ToArray(); }
    }

    public ServiceProcess this[string instanceId] => Nodes.Single(n => n.InstanceId == instanceId);

    /// <summary>A fresh database and a group on it.</summary>
    public static async Task<ProcessGroup> CreateAsync(string purpose) => new(await TestDatabase.CreateAsync(purpose));

    /// <summary>Starts the nodes in parallel and waits until each is ready. If one fails, the error carries its log.</summary>
    public async Task<ServiceProcess[]> StartAsync(params NodeSpec[] specs)
    {
        var starts = specs.Select(async spec =>
        {
            var node = await ServiceProcess.StartAsync(DatabaseUrl, spec.ServiceType, spec.InstanceId, spec.Env);
            lock (_nodes) _nodes.Add(node);
            return node;
        }).ToArray();
        try
        {
            return await Task.WhenAll(starts);
        }
        catch
        {
            // Task.WhenAll rethrows only the first failure: collect them all for the message.
            var errors = starts.Where(t => t.IsFaulted).SelectMany(t => t.Exception!.InnerExceptions).ToArray();
            throw new AggregateException("Nodes did not start: " + string.Join(Environment.NewLine, errors.Select(e => e.Message)), errors);
        }
    }

    /// <summary>Takes a node out of the group (after it exited, to start its replacement under the same name).</summary>
    public async Task RemoveAsync(ServiceProcess node)
    {
        lock (_nodes) _nodes.Remove(node);
        await node.DisposeAsync();
    }

    /// <summary>
    /// Prints the last <paramref name="lines"/> lines of every node to the test's output (call it when a test
    /// fails: the console logger shows a failed test's output under "Standard Output Messages").
    /// </summary>
    public void DumpLogs(ITestOutputHelper output, int lines = 50)
    {
        foreach (var node in Nodes) output.WriteLine(node.Tail(lines));
    }

    public async ValueTask DisposeAsync() => await Task.WhenAll(Nodes.Select(n => n.DisposeAsync().AsTask()));
}

/// <summary>Helpers shared by the process tests: SQL checks, polling, printing figures.</summary>
public static class ProcessTestKit
{
    /// <summary>Prints a measured figure to the test's output and to the console (shown by the console logger).</summary>
    public static void Report(this ITestOutputHelper output, string line)
    {
        output.WriteLine(line);
        Console.WriteLine(line);
    }

    /// <summary>Runs <paramref name="body"/>; if it fails, prints the nodes' last log lines first.</summary>
    public static async Task WithLogsOnFailureAsync(this ITestOutputHelper output, ProcessGroup group, Func<Task> body)
    {
        try
        {
            await body();
        }
        catch
        {
            group.DumpLogs(output);
            throw;
        }
    }

    /// <summary>Waits (at most 30 s) until every job in <paramref name="ids"/> is running; returns how many each node runs.</summary>
    public static async Task<Dictionary<string, long>> WaitUntilAllRunningAsync(string databaseUrl, Guid[] ids)
    {
        Dictionary<string, long> running = [];
        await WaitUntilAsync($"all {ids.Length} jobs are running", TimeSpan.FromSeconds(30),
            async () =>
            {
                running = (await QueryAsync(databaseUrl,
                        "SELECT node, count(*) FROM jobs WHERE id = ANY(@ids) AND state = 'running' GROUP BY node",
                        r => (r.GetString(0), r.GetInt64(1)), ("ids", ids)))
                    .ToDictionary(x => x.Item1, x => x.Item2);
                return running.Values.Sum() == ids.Length;
            },
            async () => Describe(await CountStatesAsync(databaseUrl, ids)));
        return running;
    }

    public static async Task<List<T>> QueryAsync<T>(string databaseUrl, string sql, Func<NpgsqlDataReader, T> read, params (string Name, object Value)[] parameters)
    {
        await using var connection = await TestDatabase.OpenAsync(databaseUrl);
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<T>();
        while (await reader.ReadAsync()) rows.Add(read(reader));
        return rows;
    }

    public static async Task<T> ScalarAsync<T>(string databaseUrl, string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = await TestDatabase.OpenAsync(databaseUrl);
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>The jobs' states, counted: "running=4, queued=6" (for waits and failure messages).</summary>
    public static async Task<Dictionary<string, long>> CountStatesAsync(string databaseUrl, Guid[] ids) =>
        (await QueryAsync(databaseUrl,
            "SELECT state || coalesce('@' || node, ''), count(*) FROM jobs WHERE id = ANY(@ids) GROUP BY 1 ORDER BY 1",
            r => (r.GetString(0), r.GetInt64(1)), ("ids", ids)))
        .ToDictionary(x => x.Item1, x => x.Item2);

    public static string Describe(Dictionary<string, long> counts) =>
        counts.Count == 0 ? "no rows" : string.Join(", ", counts.Select(kv => $"{kv.Key}={kv.Value}"));

    /// <summary>Polls <paramref name="condition"/> every <paramref name="poll"/> until it holds; fails with <paramref name="describe"/> after the deadline.</summary>
    public static async Task<TimeSpan> WaitUntilAsync(
        string what, TimeSpan timeout, Func<Task<bool>> condition, Func<Task<string>> describe, TimeSpan? poll = null)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (await condition()) return clock.Elapsed;
            if (clock.Elapsed > timeout)
            {
                Assert.Fail($"Timed out after {timeout.TotalSeconds:0} s waiting until {what}: {await describe()}");
            }
            await Task.Delay(poll ?? TimeSpan.FromMilliseconds(50));
        }
    }

    /// <summary>Waits until every one of <paramref name="ids"/> is 'succeeded'.</summary>
    public static Task<TimeSpan> WaitAllSucceededAsync(string databaseUrl, Guid[] ids, TimeSpan timeout, TimeSpan? poll = null) =>
        WaitUntilAsync($"all {ids.Length} jobs succeeded", timeout,
            async () => await ScalarAsync<long>(databaseUrl,
                "SELECT count(*) FROM jobs WHERE id = ANY(@ids) AND state = 'succeeded'", ("ids", ids)) == ids.Length,
            async () => Describe(await CountStatesAsync(databaseUrl, ids)),
            poll);

    /// <summary>The nearest-rank percentile of sorted values.</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double percent)
    {
        if (sorted.Count == 0) throw new ArgumentException("No values.", nameof(sorted));
        var rank = (int)Math.Ceiling(percent / 100.0 * sorted.Count);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)];
    }
}
