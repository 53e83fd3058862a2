using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Monolith.Tests.Features.Webhooks;
using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Worker.Outbound;

/// <summary>
/// A real HTTP proxy on 127.0.0.1: Debian's tinyproxy (installed with apt-get on first use), in the foreground with
/// its own configuration and log in a temporary folder, optionally with Basic authentication. It allows CONNECT to
/// any port (no <c>ConnectPort</c> line), as the test servers are on random ones. Its log records every request it
/// is asked, before it checks the credentials (<see cref="Requests"/>), so a test can tell which tunnels were
/// asked for, and that none was. Disposing stops it and deletes the folder.
/// </summary>
public sealed class TinyProxy : IAsyncDisposable
{
    public const string ExecutablePath = "/usr/bin/tinyproxy";

    private const string RequestMarker = "]: Request (file descriptor ";

    private readonly Process _process;
    private readonly string _folder;

    private TinyProxy(Process process, string folder, int port)
    {
        _process = process;
        _folder = folder;
        Port = port;
    }

    public int Port { get; }

    /// <summary>The proxy as <c>Outbound:Proxy:Address</c> takes it.</summary>
    public string Address => $"http://127.0.0.1:{Port}";

    private string LogPath => Path.Combine(_folder, "tinyproxy.log");

    /// <summary>Every log line so far.</summary>
    public string Log => File.Exists(LogPath) ? ReadShared(LogPath) : "";

    /// <summary>Each request line the proxy was sent, e.g. <c>CONNECT 127.0.0.1:40123 HTTP/1.1</c> or <c>GET http://… HTTP/1.1</c>.</summary>
    public IReadOnlyList<string> Requests =>
        Log.Split('\n')
            .Select(line => line.IndexOf(RequestMarker, StringComparison.Ordinal) is var at and >= 0 ? line[(at + RequestMarker.Length)..] : null)
            .OfType<string>()
            .Select(rest => rest[(rest.IndexOf("): ", StringComparison.Ordinal) + 3)..].TrimEnd())
            .ToList();

    /// <summary>
    /// A port nothing listens on now. tinyproxy takes its port from its config file, so it cannot bind port 0 itself:
    /// <see cref="StartAsync"/> tries again on another port when one is taken between this probe and the bind.
    /// </summary>
    public static int FreePort()
    {
        using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        return ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
    }

    /// <summary>Starts a proxy on a free port; with <paramref name="username"/>, it asks for Basic credentials.</summary>
    public static async Task<TinyProxy> StartAsync(string? username = null, string? password = null)
    {
        await AptPackages.EnsureInstalledAsync("tinyproxy", ExecutablePath);
        for (var attempt = 1; ; attempt++)
        {
            var proxy = Launch(FreePort(), username, password);
            try
            {
                await proxy.WaitUntilListeningAsync();
                return proxy;
            }
            catch (Exception) when (attempt < 3 && proxy._process.HasExited) // the port was taken meanwhile: another one
            {
                await proxy.DisposeAsync();
            }
            catch
            {
                await proxy.DisposeAsync();
                throw;
            }
        }
    }

    private static TinyProxy Launch(int port, string? username, string? password)
    {
        var folder = Directory.CreateTempSubdirectory("monolith-tinyproxy-").FullName;
        var config = new List<string>
        {
            $"Port {port}", "Listen 127.0.0.1", "Allow 127.0.0.1", "Timeout 30", "MaxClients 100", "LogLevel Connect",
            $"LogFile \"{Path.Combine(folder, "tinyproxy.log")}\"", "DisableViaHeader Yes",
        };
        if (username is not null) config.Add($"BasicAuth {username} {password}");
        var configPath = Path.Combine(folder, "tinyproxy.conf");
        File.WriteAllLines(configPath, config);

        var start = new ProcessStartInfo(ExecutablePath) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-d"); // foreground: the process is ours to stop
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(configPath);
        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {ExecutablePath}.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new TinyProxy(process, folder, port);
    }

    private async Task WaitUntilListeningAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            if (_process.HasExited) throw new InvalidOperationException($"tinyproxy exited with {_process.ExitCode}:\n{Log}");
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }

    private static string ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        Directory.Delete(_folder, recursive: true);
    }
}
