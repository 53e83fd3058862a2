using System.Diagnostics;
using System.Text.Json;

namespace Monolith.Bench;

/// <summary>What the file scenarios (7 datasets, 13 imports) do to the service and to psql.</summary>
public sealed partial class Bench
{
    /// <summary>POSTs a file streamed as the multipart <c>file</c> field beside <paramref name="fields"/>; the created row's id.</summary>
    private static async Task<string> PostFileAsync(HttpClient http, string url, string path, string fileName, params (string Name, string Value)[] fields)
    {
        await using var file = File.OpenRead(path);
        using var form = new MultipartFormDataContent();
        foreach (var (name, value) in fields) form.Add(new StringContent(value), name);
        form.Add(new StreamContent(file), "file", fileName);
        using var response = await http.PostAsync(url, form);
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"upload answered {(int)response.StatusCode}: {body}");
        using var created = JsonDocument.Parse(body);
        return created.RootElement.GetProperty("id").GetString()!;
    }

    /// <summary>Polls <paramref name="url"/> until its <c>state</c> is one of <paramref name="final"/> or <paramref name="limit"/> passes; the last state.</summary>
    private static async Task<string> WaitForStateAsync(HttpClient http, string url, TimeSpan limit, TimeSpan poll, params string[] final)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            using var doc = JsonDocument.Parse(await http.GetStringAsync(url));
            var state = doc.RootElement.GetProperty("state").GetString()!;
            if (final.Contains(state) || clock.Elapsed > limit) return state;
            await Task.Delay(poll);
        }
    }

    /// <summary>Runs <paramref name="commands"/> in one psql session (each a <c>-c</c>, stopping at the first error); the seconds it took.</summary>
    private async Task<double> PsqlAsync(string database, params string[] commands)
    {
        var psql = File.Exists("/usr/bin/psql") ? "/usr/bin/psql" : "psql";
        var start = new ProcessStartInfo(psql, ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db.ConnectionUri(database), .. commands.SelectMany(c => new[] { "-c", c })])
        {
            RedirectStandardError = true,
        };
        var clock = Stopwatch.StartNew();
        using var p = Process.Start(start)!;
        var err = await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0) throw new InvalidOperationException($"psql failed: {err}");
        return clock.Elapsed.TotalSeconds;
    }
}
