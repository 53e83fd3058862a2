using System.Net;
using System.Text.Json;

namespace Monolith.Tests.Infrastructure;

/// <summary>One server-sent event: its <c>event:</c> name and its <c>data:</c> parsed as JSON.</summary>
public sealed record ServerSentEvent(string Name, JsonElement Data, TimeSpan At);

public static class ServerSentEvents
{
    /// <summary>
    /// Reads <c>GET /v1/jobs/{id}/events</c> until the server ends the stream; fails if it is not
    /// <c>text/event-stream</c> or does not end within <paramref name="timeout"/>.
    /// </summary>
    public static async Task<List<ServerSentEvent>> ReadJobEventsAsync(this HttpClient client, Guid jobId, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/jobs/{jobId}/events");
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token);
        await JobClientExtensions.EnsureSuccessAsync(response);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);

        var events = new List<ServerSentEvent>();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cts.Token));
        string? name = null;
        var data = new List<string>();
        try
        {
            while (await reader.ReadLineAsync(cts.Token) is { } line)
            {
                if (line.Length == 0)
                {
                    if (data.Count > 0) events.Add(new ServerSentEvent(name ?? "message", JsonDocument.Parse(string.Join('\n', data)).RootElement.Clone(), clock.Elapsed));
                    name = null;
                    data.Clear();
                }
                else if (line.StartsWith("event:", StringComparison.Ordinal)) name = line[6..].Trim();
                else if (line.StartsWith("data:", StringComparison.Ordinal)) data.Add(line[5..].TrimStart());
            }
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            Assert.Fail($"The event stream of job {jobId} did not end within {timeout.TotalSeconds} s; events so far: " +
                        string.Join(", ", events.Select(e => $"{e.Name} {e.Data}")));
        }
        return events;
    }
}
