using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Monolith.Testing;

/// <summary>
/// A child process whose stdout and stderr lines are kept (stderr lines prefixed "[stderr] ") and written to a log
/// file, so that a failure can show what it said. It can be killed, signalled and waited for; disposing kills it if
/// it still runs. <see cref="ServiceProcess"/> (a node of the service) and the bench's peer processes build on it.
/// </summary>
public abstract class ChildProcess : IAsyncDisposable
{
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;
    public const int SIGCONT = 18;
    public const int SIGSTOP = 19;

    /// <summary>Processes started and not yet disposed, for <see cref="KillAll"/>.</summary>
    private static readonly ConcurrentDictionary<ChildProcess, bool> Live = new();

    /// <summary>Every pid started here, for <see cref="StartedHere"/>.</summary>
    private static readonly ConcurrentDictionary<int, bool> StartedPids = new();

    private readonly Process _process;
    private readonly int? _keepLines;
    private readonly List<string> _lines = [];
    private readonly StreamWriter? _log;
    private readonly object _gate = new();
    private int _total;
    private int _disposed;

    /// <param name="name">How the process is named in messages and logs.</param>
    /// <param name="start">The command line and environment (output is redirected here).</param>
    /// <param name="logPath">The file its output is also written to; none when null or when it cannot be created.</param>
    /// <param name="keepLines">How many of the last lines <see cref="Lines"/> keeps; every line when null.</param>
    protected ChildProcess(string name, ProcessStartInfo start, string? logPath, int? keepLines)
    {
        Name = name;
        _keepLines = keepLines;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        _process = new Process { StartInfo = start, EnableRaisingEvents = true };
        if (logPath is not null)
        {
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(logPath)!);
                _log = new StreamWriter(logPath) { AutoFlush = true };
                LogPath = logPath;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // no log file: the kept lines still tell
            }
        }
    }

    public string Name { get; }

    /// <summary>Where this process's output is also written, or null if the file could not be created.</summary>
    public string? LogPath { get; }

    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;

    /// <summary>The exit code, or null while the process runs.</summary>
    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    /// <summary>UTC instant just before the process was started.</summary>
    public DateTime StartedAtUtc { get; private set; }

    /// <summary>A snapshot of the lines kept so far (stderr lines are prefixed "[stderr] ").</summary>
    public IReadOnlyList<string> Lines
    {
        get { lock (_gate) return _lines.ToArray(); }
    }

    /// <summary>The last <paramref name="count"/> lines, under a header naming the process and its state.</summary>
    public string Tail(int count = 50)
    {
        string[] tail;
        int total;
        lock (_gate)
        {
            total = _total;
            tail = _lines.Skip(Math.Max(0, _lines.Count - count)).ToArray();
        }
        var state = _process.HasExited ? $"exited with code {_process.ExitCode}" : "running";
        return $"--- {Describe()}: pid {Pid}, {state}; last {tail.Length} of {total} lines" +
               $"{(LogPath is null ? "" : $", full log: {LogPath}")} ---{Environment.NewLine}" +
               string.Join(Environment.NewLine, tail);
    }

    /// <summary>True when <paramref name="pid"/> is a process started here (to tell this run's processes from others').</summary>
    public static bool StartedHere(int pid) => StartedPids.ContainsKey(pid);

    /// <summary>Kills every process started here and not disposed yet (on Ctrl+C / SIGTERM of the bench).</summary>
    public static void KillAll()
    {
        foreach (var process in Live.Keys) process.Kill();
    }

    /// <summary>SIGKILL (of the process and its children): it dies at once, as a crash would.</summary>
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

    /// <summary>Waits for the process to exit (and its output to be read); false if it still runs after <paramref name="timeout"/>.</summary>
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

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        Live.TryRemove(this, out _);
        if (!_process.HasExited)
        {
            Kill();
            await WaitForExitAsync(TimeSpan.FromSeconds(10));
        }
        lock (_gate)
        {
            _log?.Dispose();
        }
        _process.Dispose();
    }

    /// <summary>Starts the process and begins reading its output.</summary>
    protected void Start()
    {
        _process.OutputDataReceived += (_, e) => Capture(e.Data, isStdout: true);
        _process.ErrorDataReceived += (_, e) => Capture(e.Data, isStdout: false);
        StartedAtUtc = DateTime.UtcNow;
        if (!_process.Start()) throw new InvalidOperationException($"Could not start {_process.StartInfo.FileName}.");
        StartedPids[_process.Id] = true;
        Live[this] = true;
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>The process as messages name it (<see cref="Name"/> unless overridden).</summary>
    protected virtual string Describe() => Name;

    /// <summary>Called with each line as it arrives, before it is kept (on the thread reading the output).</summary>
    protected virtual void OnLine(string line, bool isStdout)
    {
    }

    private void Capture(string? line, bool isStdout)
    {
        if (line is null) return;
        OnLine(line, isStdout);
        var text = isStdout ? line : "[stderr] " + line;
        lock (_gate)
        {
            _total++;
            _lines.Add(text);
            if (_keepLines is { } keep && _lines.Count > keep) _lines.RemoveRange(0, _lines.Count - keep);
            try
            {
                _log?.WriteLine(text);
            }
            catch (ObjectDisposedException)
            {
                // the last lines of a killed process can arrive after disposal
            }
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);
}
