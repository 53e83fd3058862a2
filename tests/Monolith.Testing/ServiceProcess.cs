using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Monolith.Testing;

/// <summary>
/// One node of the service as a real child process: <c>dotnet Monolith.Api.dll</c> with its own environment
/// (SERVICE_TYPE, INSTANCE_ID, DATABASE_URL, a free loopback port), as it runs in production. The tests' process
/// groups and the bench start their nodes with it (<see cref="ServiceProcessOptions"/> says how).
/// </summary>
public sealed class ServiceProcess : ChildProcess
{
    /// <summary>Variables a node reads that must come from the caller, never from the environment it runs in.</summary>
    private static readonly string[] ClearedPrefixes =
    [
        "ASPNETCORE_", "DOTNET_ENVIRONMENT", "SERVICE_TYPE", "DATABASE_URL", "INSTANCE_ID", "POD_NAME", "ADMIN_API_KEY",
        "WORKER_CONCURRENCY", "Worker__", "ConnectionStrings__", "Logging__",
    ];

    /// <summary>Ports handed out in this process: nodes started in parallel would otherwise get the same just-released one.</summary>
    private static readonly HashSet<int> HandedOut = [];

    private readonly string _adminKey;
    private volatile bool _listening;

    private ServiceProcess(ProcessStartInfo start, ServiceProcessOptions options, string instanceId, string serviceType, int port)
        : base(instanceId, start,
            options.LogDirectory is { } directory ? Path.Combine(directory, $"{instanceId}-{port}.log") : null, options.KeepLines)
    {
        ServiceType = serviceType;
        Port = port;
        BaseUrl = $"http://127.0.0.1:{port}";
        _adminKey = options.AdminKey;
    }

    public string InstanceId => Name;
    public string ServiceType { get; }
    public int Port { get; }
    public string BaseUrl { get; }

    /// <summary>UTC instant <c>/health/ready</c> first answered 200.</summary>
    public DateTime ReadyAtUtc { get; private set; }

    /// <summary>
    /// Starts a node and waits until <c>GET /health/ready</c> answers 200 (at most <see cref="ServiceProcessOptions.ReadyTimeout"/>;
    /// fails with the node's last lines). The port is free when picked but could be taken before the node binds it:
    /// then it tries another one.
    /// </summary>
    public static async Task<ServiceProcess> StartAsync(ServiceProcessOptions options, string databaseUrl, string serviceType,
        string instanceId, IDictionary<string, string>? extraEnv = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            var port = FreePort();
            var node = new ServiceProcess(StartInfo(options, databaseUrl, serviceType, instanceId, extraEnv, port), options, instanceId, serviceType, port);
            try
            {
                node.Start();
                await node.WaitUntilReadyAsync(options.ReadyTimeout);
                return node;
            }
            catch (Exception) when (attempt < 3 && node.HasExited && node.Said("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                await node.DisposeAsync();
            }
            catch (Exception) when (attempt < 3 && options.OnEarlyShutdown is { } told && node.HasExited &&
                                    node.Said("Application is shutting down", StringComparison.Ordinal))
            {
                told(instanceId);
                await node.DisposeAsync();
            }
            catch
            {
                await node.DisposeAsync();
                throw;
            }
        }
    }

    /// <summary>
    /// A client of this node, sending <paramref name="apiKey"/> as X-Api-Key (the admin key of
    /// <see cref="ServiceProcessOptions.AdminKey"/> when null).
    /// </summary>
    public HttpClient CreateClient(string? apiKey = null)
    {
        var client = new HttpClient { BaseAddress = new Uri(BaseUrl), Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Add("X-Api-Key", apiKey ?? _adminKey);
        return client;
    }

    protected override string Describe() => $"{InstanceId} ({ServiceType})";

    protected override void OnLine(string line, bool isStdout)
    {
        if (!_listening && line.Contains($"Now listening on: {BaseUrl}", StringComparison.Ordinal)) _listening = true;
    }

    private bool Said(string text, StringComparison comparison) => Lines.Any(l => l.Contains(text, comparison));

    private static ProcessStartInfo StartInfo(ServiceProcessOptions options, string databaseUrl, string serviceType, string instanceId,
        IDictionary<string, string>? extraEnv, int port)
    {
        var start = new ProcessStartInfo(DotnetHost()) { WorkingDirectory = Path.GetDirectoryName(options.ApiDll)! };
        start.ArgumentList.Add(options.ApiDll);
        foreach (var key in start.Environment.Keys.ToArray())
        {
            if (ClearedPrefixes.Any(p => key.StartsWith(p, StringComparison.OrdinalIgnoreCase))) start.Environment.Remove(key);
        }
        start.Environment["DATABASE_URL"] = databaseUrl;
        start.Environment["SERVICE_TYPE"] = serviceType;
        start.Environment["INSTANCE_ID"] = instanceId;
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        start.Environment["ADMIN_API_KEY"] = options.AdminKey;
        start.Environment[$"Secrets__Keys__{options.SecretKeyId}"] = options.SecretKey;
        start.Environment["Transfers__AllowedHosts__0"] = "127.0.0.1";
        if (extraEnv is not null)
        {
            foreach (var (key, value) in extraEnv) start.Environment[key] = value;
        }
        return start;
    }

    private async Task WaitUntilReadyAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { BaseAddress = new Uri(BaseUrl), Timeout = TimeSpan.FromSeconds(5) };
        var clock = Stopwatch.StartNew();
        var last = "no answer yet";
        while (clock.Elapsed < timeout)
        {
            if (HasExited)
            {
                throw new InvalidOperationException(
                    $"{InstanceId} ({ServiceType}) exited with code {ExitCode} before it was ready.{Environment.NewLine}{Tail()}");
            }
            // Only this process's own "Now listening on" proves that the port is its own and not another's.
            if (!_listening)
            {
                last = "not listening yet";
                await Task.Delay(50);
                continue;
            }
            try
            {
                using var response = await http.GetAsync("/health/ready");
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    ReadyAtUtc = DateTime.UtcNow;
                    return;
                }
                last = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                last = ex.Message;
            }
            await Task.Delay(50);
        }
        throw new InvalidOperationException(
            $"{InstanceId} ({ServiceType}) was not ready within {timeout.TotalSeconds} s (last answer: {last}).{Environment.NewLine}{Tail()}");
    }

    /// <summary>A port free now, and never one handed out before in this process.</summary>
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

    /// <summary>The dotnet host running the caller (so the node runs on the same runtime), or dotnet on PATH.</summary>
    private static string DotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host)) return host;
        if (Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet") return path;
        return "dotnet";
    }
}
