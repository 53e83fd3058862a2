using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Monolith.Bench;

/// <summary>
/// One node of the service as a child process (<c>dotnet Monolith.Api.dll</c>), as in production. The approach
/// follows tests/Monolith.Tests/Infrastructure/ServiceProcess.cs (free port, wait for /health/ready after the node's
/// own "Now listening on" line, SIGKILL via Process.Kill), but this copy is self-contained. Output goes to a log file.
/// </summary>
public sealed class Node : IAsyncDisposable, IMeasuredProcess
{
    public const string AdminKey = "bench-admin-key-0123456789abcdef";

    private static readonly string[] ClearedPrefixes =
    [
        "ASPNETCORE_", "DOTNET_ENVIRONMENT", "SERVICE_TYPE", "DATABASE_URL", "INSTANCE_ID", "POD_NAME", "ADMIN_API_KEY",
        "WORKER_CONCURRENCY", "Worker__", "ConnectionStrings__", "Logging__",
    ];

    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly object _gate = new();
    private readonly Queue<string> _tail = new();
    private volatile bool _listening;
    private int _disposed;

    private Node(Process process, string instanceId, string serviceType, int port, StreamWriter log, string logPath)
    {
        _process = process;
        InstanceId = instanceId;
        ServiceType = serviceType;
        BaseUrl = $"http://127.0.0.1:{port}";
        _log = log;
        LogPath = logPath;
    }

    public string InstanceId { get; }
    public string ServiceType { get; }
    public string BaseUrl { get; }
    public string LogPath { get; }
    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;

    /// <summary>UTC instant just before the process was started.</summary>
    public DateTime StartedAtUtc { get; private set; }

    /// <summary>UTC instant /health/ready first answered 200.</summary>
    public DateTime ReadyAtUtc { get; private set; }

    public static async Task<Node> StartAsync(string apiDll, string logDir, string databaseUrl, string serviceType,
        string instanceId, IDictionary<string, string>? extraEnv = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            var node = Launch(apiDll, logDir, databaseUrl, serviceType, instanceId, extraEnv, FreePort());
            try
            {
                await node.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
                return node;
            }
            catch (Exception) when (attempt < 3 && node.HasExited && node.TailText().Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                await node.DisposeAsync();
            }
            catch (Exception) when (attempt < 3 && node.HasExited && node.TailText().Contains("Application is shutting down", StringComparison.Ordinal))
            {
                // Seen once while other test runs shared the machine: the node shut down gracefully (exit code 0, as on
                // SIGTERM) right after it started. Start it again, and say so.
                Console.Error.WriteLine($"[bench] {instanceId} shut down by itself before it was ready (exit code {node._process.ExitCode}); starting it again");
                RestartedEarly.Add(instanceId);
                await node.DisposeAsync();
            }
            catch
            {
                await node.DisposeAsync();
                throw;
            }
        }
    }

    /// <summary>Nodes that shut down gracefully before they were ready and were started again.</summary>
    public static readonly System.Collections.Concurrent.ConcurrentBag<string> RestartedEarly = [];

    /// <summary>Pids of every node this bench started.</summary>
    public static readonly System.Collections.Concurrent.ConcurrentDictionary<int, bool> OwnPids = new();

    /// <summary>
    /// Other processes of this project running now (nodes or test hosts not started by this bench): a sign that
    /// the machine was shared while measuring.
    /// </summary>
    public static int ForeignProcesses()
    {
        var count = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid) || pid == Environment.ProcessId || OwnPids.ContainsKey(pid)) continue;
            try
            {
                var cmdline = File.ReadAllText(Path.Combine(dir, "cmdline"));
                if (cmdline.Contains("Monolith.Api.dll", StringComparison.Ordinal) || cmdline.Contains("testhost", StringComparison.Ordinal)) count++;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // gone
            }
        }
        return count;
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<Node, bool> Live = new();

    /// <summary>Kills every node of this bench still running (on Ctrl+C / SIGTERM of the bench).</summary>
    public static void KillAll()
    {
        foreach (var node in Live.Keys) node.Kill();
    }

    /// <summary>SIGKILL (Process.Kill): the node dies at once, as a crash would.</summary>
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

    /// <summary>VmRSS (or another /proc/&lt;pid&gt;/status field) in kB; null when the process is gone.</summary>
    public long? ReadStatusKb(string field = "VmRSS") => ProcFs.StatusKb(Pid, field);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        Live.TryRemove(this, out _);
        if (!_process.HasExited)
        {
            Kill();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
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

    public string TailText()
    {
        lock (_gate) return string.Join(Environment.NewLine, _tail);
    }

    private static Node Launch(string apiDll, string logDir, string databaseUrl, string serviceType, string instanceId,
        IDictionary<string, string>? extraEnv, int port)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(apiDll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(apiDll);
        foreach (var key in start.Environment.Keys.ToArray())
        {
            if (ClearedPrefixes.Any(p => key.StartsWith(p, StringComparison.OrdinalIgnoreCase))) start.Environment.Remove(key);
        }
        start.Environment["DATABASE_URL"] = databaseUrl;
        start.Environment["SERVICE_TYPE"] = serviceType;
        start.Environment["INSTANCE_ID"] = instanceId;
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        start.Environment["ADMIN_API_KEY"] = AdminKey;
        start.Environment["Secrets__Keys__bench"] = "YmVuY2gta2V5LWJlbmNoLWtleS1iZW5jaC1rZXktYmU=";
        start.Environment["Transfers__AllowedHosts__0"] = "127.0.0.1";
        if (extraEnv is not null)
        {
            foreach (var (key, value) in extraEnv) start.Environment[key] = value;
        }

        Directory.CreateDirectory(logDir);
        var logPath = Path.Combine(logDir, $"{instanceId}-{port}.log");
        var log = new StreamWriter(logPath) { AutoFlush = true };
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var node = new Node(process, instanceId, serviceType, port, log, logPath);
        process.OutputDataReceived += (_, e) => node.Capture(e.Data, "");
        process.ErrorDataReceived += (_, e) => node.Capture(e.Data, "[stderr] ");
        node.StartedAtUtc = DateTime.UtcNow;
        if (!process.Start()) throw new InvalidOperationException($"Could not start dotnet {apiDll}.");
        OwnPids[process.Id] = true;
        Live[node] = true;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return node;
    }

    private void Capture(string? line, string prefix)
    {
        if (line is null) return;
        if (!_listening && line.Contains($"Now listening on: {BaseUrl}", StringComparison.Ordinal)) _listening = true;
        lock (_gate)
        {
            _tail.Enqueue(prefix + line);
            while (_tail.Count > 40) _tail.Dequeue();
            try
            {
                _log.WriteLine(prefix + line);
            }
            catch (ObjectDisposedException)
            {
                // late lines of a killed process
            }
        }
    }

    private async Task WaitUntilReadyAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { BaseAddress = new Uri(BaseUrl), Timeout = TimeSpan.FromSeconds(5) };
        var clock = Stopwatch.StartNew();
        var last = "no answer yet";
        while (clock.Elapsed < timeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException(
                    $"{InstanceId} ({ServiceType}) exited with code {_process.ExitCode} before it was ready (log {LogPath}):{Environment.NewLine}{TailText()}");
            }
            if (_listening)
            {
                try
                {
                    using var response = await http.GetAsync("/health/ready");
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        ReadyAtUtc = DateTime.UtcNow;
                        return;
                    }
                    last = $"{(int)response.StatusCode}";
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                    last = ex.Message;
                }
            }
            await Task.Delay(50);
        }
        throw new InvalidOperationException(
            $"{InstanceId} ({ServiceType}) was not ready within {timeout.TotalSeconds} s (last: {last}, log {LogPath}).");
    }

    private static readonly HashSet<int> HandedOut = [];

    private static int FreePort()
    {
        while (true)
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            int port;
            try
            {
                port = ((IPEndPoint)listener.LocalEndpoint).Port;
            }
            finally
            {
                listener.Stop();
            }
            lock (HandedOut)
            {
                if (HandedOut.Add(port)) return port;
            }
        }
    }
}
