using System.Diagnostics;
using Monolith.Tests.Infrastructure;
using Monolith.Worker.Engine;
using Npgsql;
using Xunit.Abstractions;

namespace Monolith.Tests.Processes;

/// <summary>
/// The multi-process tests start several nodes each and measure timings: they run one class at a time, after
/// the in-process tests, so that nothing else competes for the machine.
/// </summary>
[CollectionDefinition("Processes", DisableParallelization = true)]
public sealed class ProcessesCollection;

/// <summary>One row of <c>job_attempts</c>: an attempt's number, node, outcome and when it started and ended.</summary>
public sealed record AttemptRow(Guid JobId, int Attempt, string Node, string Outcome, DateTime StartedAt, DateTime FinishedAt);

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

    /// <summary>A fresh database holding the whole schema (<see cref="TestDatabase.CreateAsync"/>) and a group on it.</summary>
    public static async Task<ProcessGroup> CreateAsync(string purpose) => new(await TestDatabase.CreateAsync(purpose));

    /// <summary>An empty database, which the first node migrates (tests of the first start-up), and a group on it.</summary>
    public static async Task<ProcessGroup> CreateEmptyAsync(string purpose) => new(await TestDatabase.CreateEmptyAsync(purpose));

    /// <summary>Starts the nodes in parallel and waits until each is ready. If one fails, the error carries its log.</summary>
    public async Task<ServiceProcess[]> StartAsync(params NodeSpec[] specs)
    {
        var starts = specs.Select(async spec =>
        {
            var node = await TestNodes.StartAsync(DatabaseUrl, spec.ServiceType, spec.InstanceId, spec.Env);
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

    /// <summary>How many of <paramref name="ids"/> each node holds 'running' now (in a slot, in its buffer, or with the outcome unwritten).</summary>
    public static async Task<Dictionary<string, long>> RunningPerNodeAsync(string databaseUrl, Guid[] ids) =>
        (await QueryAsync(databaseUrl,
            "SELECT node, count(*) FROM jobs WHERE id = ANY(@ids) AND state = 'running' GROUP BY node",
            r => (r.GetString(0), r.GetInt64(1)), ("ids", ids)))
        .ToDictionary(x => x.Item1, x => x.Item2);

    /// <summary>The attempt records of <paramref name="ids"/>, in the order they were written per job.</summary>
    public static Task<List<AttemptRow>> AttemptsAsync(string databaseUrl, Guid[] ids) =>
        QueryAsync(databaseUrl,
            "SELECT job_id, attempt, node, outcome, started_at, finished_at FROM job_attempts WHERE job_id = ANY(@ids) ORDER BY job_id, id",
            r => new AttemptRow(r.GetGuid(0), r.GetInt32(1), r.GetString(2), r.GetString(3), r.GetDateTime(4), r.GetDateTime(5)),
            ("ids", ids));

    /// <summary>
    /// No job ran twice at once and none succeeded twice: every one of <paramref name="ids"/> has exactly one 'succeeded'
    /// attempt, as its last; and each job's attempts follow one another (an attempt starts when, or after, the one
    /// before it ended: a 'lost' attempt ends when the recovery takes the job back, which is when the next one starts).
    /// </summary>
    public static void AssertEachSucceededOnceWithoutOverlap(IReadOnlyList<AttemptRow> attempts, Guid[] ids)
    {
        var byJob = attempts.ToLookup(a => a.JobId);
        var twice = ids.Where(id => byJob[id].Count(a => a.Outcome == "succeeded") > 1).ToList();
        Assert.True(twice.Count == 0, $"{twice.Count} job(s) succeeded more than once: " +
                                      string.Join("; ", twice.Take(5).Select(id => Describe(byJob[id]))));
        var notOnce = ids.Where(id => byJob[id].LastOrDefault()?.Outcome != "succeeded").ToList();
        Assert.True(notOnce.Count == 0, $"{notOnce.Count} job(s) do not end with one succeeded attempt: " +
                                        string.Join("; ", notOnce.Take(5).Select(id => Describe(byJob[id]))));
        var overlapping = ids.Where(id => byJob[id].Zip(byJob[id].Skip(1)).Any(p => p.Second.StartedAt < p.First.FinishedAt)).ToList();
        Assert.True(overlapping.Count == 0, $"{overlapping.Count} job(s) have attempts that overlap in time: " +
                                            string.Join("; ", overlapping.Take(5).Select(id => Describe(byJob[id]))));
        var renumbered = ids.Where(id => !byJob[id].Select(a => a.Attempt).SequenceEqual(Enumerable.Range(1, byJob[id].Count()))).ToList();
        Assert.True(renumbered.Count == 0, $"{renumbered.Count} job(s) have attempts missing or counted twice: " +
                                           string.Join("; ", renumbered.Take(5).Select(id => Describe(byJob[id]))));
    }

    /// <summary>A job's attempts as "1:lost@worker-1 [08:00:01.100-08:00:09.200] -> 2:succeeded@worker-2 [...]".</summary>
    public static string Describe(IEnumerable<AttemptRow> attempts) =>
        string.Join(" -> ", attempts.Select(a => $"{a.Attempt}:{a.Outcome}@{a.Node} [{a.StartedAt:HH:mm:ss.fff}-{a.FinishedAt:HH:mm:ss.fff}]"));

    /// <summary>
    /// The standing dispatch firings Quartz holds as running on <paramref name="instanceId"/> now: its rows in
    /// <c>qrtz_fired_triggers</c> for the StandingDispatch job in <see cref="Quartz.SchedulerConstants.StartupGroup"/>
    /// (the group of the triggers <c>RunAtStartup</c> schedules).
    /// </summary>
    public static Task<List<(string EntryId, string TriggerName)>> StandingFiringsAsync(string databaseUrl, string instanceId) =>
        QueryAsync(databaseUrl, """
            SELECT entry_id, trigger_name FROM quartz.qrtz_fired_triggers
            WHERE instance_name = @node AND job_name = @job AND trigger_group = @group AND state = 'EXECUTING'
            ORDER BY fired_time
            """,
            r => (r.GetString(0), r.GetString(1)),
            ("node", instanceId), ("job", StandingDispatchJob.Key.Name), ("group", Quartz.SchedulerConstants.StartupGroup));

    /// <summary>
    /// The sessions on the test's database that are in a transaction now, oldest first: state, age, and the statement
    /// each ran last (a frozen node that holds a transaction holds its locks, for failure messages).
    /// </summary>
    public static async Task<string> OpenTransactionsAsync(string databaseUrl) =>
        string.Join("; ", await QueryAsync(databaseUrl, """
            SELECT pid, state, round(extract(epoch FROM now() - xact_start)::numeric, 1)::float8, left(regexp_replace(query, '\s+', ' ', 'g'), 160)
            FROM pg_stat_activity
            WHERE datname = current_database() AND xact_start IS NOT NULL AND pid <> pg_backend_pid()
            ORDER BY xact_start
            """,
            r => $"pid {r.GetInt32(0)} {r.GetString(1)} for {r.GetDouble(2):0.0} s: {r.GetString(3)}")) is { Length: > 0 } open
            ? open
            : "no open transaction";

    /// <summary>The nearest-rank percentile of sorted values.</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double percent)
    {
        if (sorted.Count == 0) throw new ArgumentException("No values.", nameof(sorted));
        var rank = (int)Math.Ceiling(percent / 100.0 * sorted.Count);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)];
    }
}
