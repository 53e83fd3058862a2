using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Monolith.Tests.Infrastructure;

/// <summary>
/// One node of the service as a real child process: <c>dotnet Monolith.Api.dll</c> with its own environment
/// (SERVICE_TYPE, INSTANCE_ID, DATABASE_URL, a free loopback port), as it runs in production. Its stdout and
/// stderr lines are kept (and written to <c>process-logs/</c> under the test output directory) so that a failing
/// test can show what the node said. Disposing kills the process if it still runs.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;
    public const int SIGCONT = 18;
    public const int SIGSTOP = 19;

    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Variables a node reads that must come from the test, never from the environment the tests run in.</summary>
    private static readonly string[] ClearedPrefixes =
    [
        "ASPNETCORE_", "DOTNET_ENVIRONMENT", "SERVICE_TYPE", "DATABASE_URL", "INSTANCE_ID", "POD_NAME", "ADMIN_API_KEY",
        "WORKER_CONCURRENCY", "Worker__", "ConnectionStrings__", "Logging__",
    ];

    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly StreamWriter? _logFile;
    private readonly object _gate = new();
    private volatile bool _listening;

    private ServiceProcess(Process process, string instanceId, string serviceType, int port, StreamWriter? logFile, string? logPath)
    {
        _process = process;
        InstanceId = instanceId;
        ServiceType = serviceType;
        Port = port;
        BaseUrl = $"http://127.0.0.1:{port}";
        _logFile = logFile;
        LogPath = logPath;
    }

    public string InstanceId { get; }
    public string ServiceType { get; }
    public int Port { get; }
    public string BaseUrl { get; }

    /// <summary>Where this process's output is also written, or null if the file could not be created.</summary>
    public string? LogPath { get; }

    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;

    /// <summary>The exit code, or null while the process runs.</summary>
    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    /// <summary>A snapshot of every line the process wrote so far (stderr lines are prefixed "[stderr] ").</summary>
    public IReadOnlyList<string> Lines
    {
        get { lock (_gate) return _lines.ToArray(); }
    }

    /// <summary>The last <paramref name="count"/> lines, under a header naming the node.</summary>
    public string Tail(int count = 50)
    {
        string[] tail;
        int total;
        lock (_gate)
        {
            total = _lines.Count;
            tail = _lines.Skip(Math.Max(0, total - count)).ToArray();
        }
        var state = _process.HasExited ? $"exited with code {_process.ExitCode}" : "running";
        return $"--- {InstanceId} ({ServiceType}, pid {Pid}, {state}; last {tail.Length} of {total} lines" +
               $"{(LogPath is null ? "" : $", full log: {LogPath}")}) ---{Environment.NewLine}" +
               string.Join(Environment.NewLine, tail);
    }

    /// <summary>
    /// Starts a node and waits until <c>GET /health/ready</c> answers 200 (at most 60 s; fails with the node's output).
    /// </summary>
    public static async Task<ServiceProcess> StartAsync(
        string databaseUrl, string serviceType, string instanceId, IDictionary<string, string>? extraEnv = null)
    {
        // The port is free when picked but could be taken before the node binds it: then try another one.
        for (var attempt = 1; ; attempt++)
        {
            var node = Launch(databaseUrl, serviceType, instanceId, extraEnv, FreePort());
            try
            {
                await node.WaitUntilReadyAsync();
                return node;
            }
            catch (Exception) when (attempt < 3 && node.HasExited && node.Lines.Any(l => l.Contains("address already in use", StringComparison.OrdinalIgnoreCase)))
            {
                await node.DisposeAsync();
            }
            catch
            {
                await node.DisposeAsync();
                throw;
            }
        }
    }

    /// <summary>A client of this node; it sends <paramref name="apiKey"/> (the admin key unless told) as X-Api-Key.</summary>
    public HttpClient CreateClient(string? apiKey = MonolithFactory.AdminKey)
    {
        var client = new HttpClient { BaseAddress = new Uri(BaseUrl), Timeout = TimeSpan.FromSeconds(30) };
        if (apiKey is not null) client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        return client;
    }

    /// <summary>SIGKILL: the node dies at once, leaving its running jobs behind as a crash would.</summary>
    public void Kill()
    {
        if (_process.HasExited) return;
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // it exited meanwhile
        }
    }

    /// <summary>Sends a signal (<see cref="SIGTERM"/>, <see cref="SIGSTOP"/>, <see cref="SIGCONT"/>, ...) to the process.</summary>
    public Task SignalAsync(int signal)
    {
        if (kill(Pid, signal) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new InvalidOperationException($"kill({Pid}, {signal}) failed with errno {errno}.");
        }
        return Task.CompletedTask;
    }

    /// <summary>Waits for the process to exit; false if it still runs after <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return _process.HasExited;
        }
    }

    private int _disposed;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        if (!_process.HasExited)
        {
            Kill();
            await WaitForExitAsync(TimeSpan.FromSeconds(10));
        }
        lock (_gate)
        {
            _logFile?.Dispose();
        }
        _process.Dispose();
    }

    private static ServiceProcess Launch(
        string databaseUrl, string serviceType, string instanceId, IDictionary<string, string>? extraEnv, int port)
    {
        var dll = ApiDllPath();
        var start = new ProcessStartInfo(DotnetHost())
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);

        foreach (var key in start.Environment.Keys.ToArray())
        {
            if (ClearedPrefixes.Any(p => key.StartsWith(p, StringComparison.OrdinalIgnoreCase))) start.Environment.Remove(key);
        }
        start.Environment["DATABASE_URL"] = databaseUrl;
        start.Environment["SERVICE_TYPE"] = serviceType;
        start.Environment["INSTANCE_ID"] = instanceId;
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        start.Environment["ADMIN_API_KEY"] = MonolithFactory.AdminKey;
        start.Environment[$"Secrets__Keys__{MonolithFactory.SecretKeyId}"] = MonolithFactory.SecretKey;
        start.Environment["Transfers__AllowedHosts__0"] = "127.0.0.1";
        if (extraEnv is not null)
        {
            foreach (var (key, value) in extraEnv) start.Environment[key] = value;
        }

        StreamWriter? logFile = null;
        string? logPath = null;
        try
        {
            var directory = Path.Combine(AppContext.BaseDirectory, "process-logs");
            Directory.CreateDirectory(directory);
            PruneOldLogs(directory);
            logPath = Path.Combine(directory, $"{DateTime.UtcNow:yyyyMMdd-HHmmss.fff}-{instanceId}-{port}.log");
            logFile = new StreamWriter(logPath) { AutoFlush = true };
        }
        catch (IOException)
        {
            logPath = null;
        }
        catch (UnauthorizedAccessException)
        {
            logPath = null;
        }

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var node = new ServiceProcess(process, instanceId, serviceType, port, logFile, logPath);
        process.OutputDataReceived += (_, e) => node.Capture(e.Data, "");
        process.ErrorDataReceived += (_, e) => node.Capture(e.Data, "[stderr] ");
        if (!process.Start()) throw new InvalidOperationException($"Could not start {start.FileName} {dll}.");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return node;
    }

    private static int _pruned;

    /// <summary>Once per test run: logs of earlier runs older than a day go, so the directory does not grow forever.</summary>
    private static void PruneOldLogs(string directory)
    {
        if (Interlocked.Exchange(ref _pruned, 1) == 1) return;
        foreach (var file in Directory.EnumerateFiles(directory, "*.log"))
        {
            try
            {
                if (File.GetLastWriteTimeUtc(file) < DateTime.UtcNow.AddDays(-1)) File.Delete(file);
            }
            catch (IOException)
            {
                // in use or gone: leave it
            }
        }
    }

    private void Capture(string? line, string prefix)
    {
        if (line is null) return;
        if (!_listening && line.Contains($"Now listening on: {BaseUrl}", StringComparison.Ordinal)) _listening = true;
        lock (_gate)
        {
            _lines.Add(prefix + line);
            try
            {
                _logFile?.WriteLine(prefix + line);
            }
            catch (ObjectDisposedException)
            {
                // the last lines of a killed process can arrive after disposal
            }
        }
    }

    private async Task WaitUntilReadyAsync()
    {
        using var http = new HttpClient { BaseAddress = new Uri(BaseUrl), Timeout = TimeSpan.FromSeconds(5) };
        var clock = Stopwatch.StartNew();
        var last = "no answer yet";
        while (clock.Elapsed < ReadyTimeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException(
                    $"{InstanceId} ({ServiceType}) exited with code {_process.ExitCode} before it was ready.{Environment.NewLine}{Tail()}");
            }
            // Only this process's own "Now listening on" proves that the port is its own and not another's.
            if (!_listening)
            {
                last = "not listening yet";
                await Task.Delay(100);
                continue;
            }
            try
            {
                using var response = await http.GetAsync("/health/ready");
                if (response.StatusCode == HttpStatusCode.OK) return;
                last = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                last = ex.Message;
            }
            await Task.Delay(100);
        }
        throw new InvalidOperationException(
            $"{InstanceId} ({ServiceType}) was not ready within {ReadyTimeout.TotalSeconds} s (last answer: {last}).{Environment.NewLine}{Tail()}");
    }

    private static readonly HashSet<int> HandedOut = [];

    /// <summary>
    /// A port free now, and never one handed out before in this test run: nodes started in parallel would
    /// otherwise be given the same just-released port.
    /// </summary>
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

    /// <summary>The dotnet host running these tests (so the node runs on the same runtime), or dotnet on PATH.</summary>
    private static string DotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host)) return host;
        if (Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet") return path;
        return "dotnet";
    }

    /// <summary>The repository root: the nearest folder above the tests holding Monolith.sln.</summary>
    public static string RepoRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Monolith.sln"))) return directory.FullName;
        }
        throw new DirectoryNotFoundException($"No Monolith.sln above {AppContext.BaseDirectory}.");
    }

    /// <summary>
    /// <c>src/Api/bin/&lt;Configuration&gt;/&lt;tfm&gt;/Monolith.Api.dll</c> of this repository, the configuration and
    /// framework taken from the test assembly's own output path; the copy next to the tests when that is missing.
    /// </summary>
    public static string ApiDllPath()
    {
        var baseDirectory = Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory);
        var segments = baseDirectory.Split(Path.DirectorySeparatorChar);
        var bin = Array.LastIndexOf(segments, "bin");
        var configuration = bin >= 0 && bin + 1 < segments.Length ? segments[bin + 1] : "Release";
        var framework = bin >= 0 && bin + 2 < segments.Length ? segments[bin + 2] : "net10.0";

        var built = Path.Combine(RepoRoot(), "src", "Api", "bin", configuration, framework, "Monolith.Api.dll");
        if (File.Exists(built)) return built;

        var local = Path.Combine(baseDirectory, "Monolith.Api.dll");
        if (File.Exists(local)) return local;
        throw new FileNotFoundException(
            $"Monolith.Api.dll not found under src/Api/bin/{configuration}/{framework} nor in {baseDirectory}: build the solution first.");
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);
}
