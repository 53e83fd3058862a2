using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Monolith.Tests.Features.HttpRequests;

/// <summary>
/// A vendor that writes its answers byte for byte: a raw TCP listener on 127.0.0.1 and a port the system picks, for
/// answers no HTTP server would send (a NUL in the status line or the body). Each request's head (and any body its
/// Content-Length announces) is read, the answer scripted for its path is written, and the connection is closed.
/// </summary>
public sealed class RawVendor : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<string, byte[]> _answers = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _paths = new();
    private readonly Task _loop;

    private RawVendor()
    {
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _loop = Task.Run(AcceptAsync);
    }

    public int Port { get; }

    /// <summary>The paths asked for so far, in arrival order.</summary>
    public IReadOnlyList<string> Paths => _paths.ToArray();

    public string Url(string path) => $"http://127.0.0.1:{Port}{path}";

    public static RawVendor Start() => new();

    /// <summary>Requests for <paramref name="path"/> are answered with <paramref name="answer"/> as it is (latin-1: one byte per char).</summary>
    public void Answer(string path, string answer) => _answers[path] = Encoding.Latin1.GetBytes(answer);

    /// <summary>An HTTP/1.1 answer: the status line as given, then the headers, Content-Length, Connection: close and the body's bytes.</summary>
    public static string Response(string statusLine, string body = "", string contentType = "application/json") =>
        $"HTTP/1.1 {statusLine}\r\nContent-Type: {contentType}\r\nContent-Length: {Encoding.Latin1.GetByteCount(body)}\r\nConnection: close\r\n\r\n{body}";

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient connection;
            try
            {
                connection = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            _ = Task.Run(() => ServeAsync(connection));
        }
    }

    private async Task ServeAsync(TcpClient connection)
    {
        using (connection)
        {
            try
            {
                var stream = connection.GetStream();
                var head = await ReadHeadAsync(stream);
                var lines = head.Split("\r\n");
                var path = lines[0].Split(' ') is { Length: >= 2 } parts ? parts[1] : "/";
                var length = lines.Select(l => l.Split(':', 2)).Where(p => p.Length == 2 && p[0].Trim().Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
                    .Select(p => int.Parse(p[1].Trim())).FirstOrDefault();
                var buffer = new byte[4096];
                for (var left = length; left > 0;)
                {
                    var read = await stream.ReadAsync(buffer.AsMemory(0, Math.Min(left, buffer.Length)), _stop.Token);
                    if (read == 0) break;
                    left -= read;
                }
                _paths.Enqueue(path);
                var answer = _answers.TryGetValue(path, out var scripted) ? scripted : Encoding.Latin1.GetBytes(Response("404 Not Found"));
                await stream.WriteAsync(answer, _stop.Token);
                await stream.FlushAsync(_stop.Token);
                connection.Client.Shutdown(SocketShutdown.Send);
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException)
            {
                // the client went away, or the vendor stops
            }
        }
    }

    private async Task<string> ReadHeadAsync(NetworkStream stream)
    {
        var head = new List<byte>();
        var one = new byte[1];
        while (await stream.ReadAsync(one, _stop.Token) == 1)
        {
            head.Add(one[0]);
            if (head.Count >= 4 && head[^1] == '\n' && head[^2] == '\r' && head[^3] == '\n' && head[^4] == '\r') break;
        }
        return Encoding.Latin1.GetString(head.ToArray());
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _loop;
        _stop.Dispose();
    }
}
