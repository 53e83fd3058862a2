using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Monolith.Tests.Infrastructure;

/// <summary>What tests do over HTTP, as a user of the API would.</summary>
public static class JobClientExtensions
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static async Task<T> PostJsonAsync<T>(this HttpClient client, string url, object body)
    {
        using var response = await client.PostAsJsonAsync(url, body, Json);
        await EnsureSuccessAsync(response);
        return (await response.Content.ReadFromJsonAsync<T>(Json))!;
    }

    public static async Task<JobDto> SubmitJobAsync(this HttpClient client, string type, object payload, object? options = null)
    {
        var body = new Dictionary<string, object?> { ["type"] = type, ["payload"] = payload };
        if (options is not null)
        {
            foreach (var property in JsonSerializer.SerializeToElement(options, Json).EnumerateObject())
            {
                body[property.Name] = property.Value;
            }
        }
        using var response = await client.PostAsJsonAsync("/v1/jobs", body, Json);
        await EnsureSuccessAsync(response);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JobDto>(Json))!;
    }

    /// <summary>
    /// Submits <paramref name="count"/> jobs of one type and payload with <c>POST /v1/jobs/batch</c> (up to 1,000 per request,
    /// each request one transaction); returns their ids in order.
    /// </summary>
    public static async Task<Guid[]> SubmitJobBatchAsync(this HttpClient client, string type, object payload, int count, object? options = null)
    {
        var ids = new List<Guid>(count);
        for (var offset = 0; offset < count; offset += MaxBatch)
        {
            var jobs = Enumerable.Range(0, Math.Min(MaxBatch, count - offset)).Select(_ =>
            {
                var job = new Dictionary<string, object?> { ["type"] = type, ["payload"] = payload };
                if (options is not null)
                {
                    foreach (var property in JsonSerializer.SerializeToElement(options, Json).EnumerateObject()) job[property.Name] = property.Value;
                }
                return job;
            }).ToList();
            using var response = await client.PostAsJsonAsync("/v1/jobs/batch", new { jobs }, Json);
            await EnsureSuccessAsync(response);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            ids.AddRange((await response.Content.ReadFromJsonAsync<BatchIds>(Json))!.Ids);
        }
        return [.. ids];
    }

    /// <summary>The most jobs <c>POST /v1/jobs/batch</c> takes in one request.</summary>
    private const int MaxBatch = 1000;

    private sealed record BatchIds(List<Guid> Ids);

    public static async Task<JobDto> GetJobAsync(this HttpClient client, Guid id)
    {
        using var response = await client.GetAsync($"/v1/jobs/{id}");
        await EnsureSuccessAsync(response);
        return (await response.Content.ReadFromJsonAsync<JobDto>(Json))!;
    }

    /// <summary>Polls the job until it reaches <paramref name="state"/>; fails with its last view if the deadline passes.</summary>
    public static async Task<JobDto> WaitForStateAsync(this HttpClient client, Guid id, string state, TimeSpan? timeout = null)
    {
        var clock = Stopwatch.StartNew();
        var limit = timeout ?? TimeSpan.FromSeconds(30);
        while (true)
        {
            var job = await client.GetJobAsync(id);
            if (job.State == state) return job;
            if (clock.Elapsed > limit)
            {
                Assert.Fail($"Job {id} did not reach '{state}' within {limit.TotalSeconds} s; it is '{job.State}' " +
                            $"(attempt {job.Attempt}, last error: {job.LastError ?? "none"}).");
            }
            await Task.Delay(25);
        }
    }

    public static async Task EnsureSuccessAsync(HttpResponseMessage response)
    {
        if (response.IsSuccessStatusCode) return;
        var body = await response.Content.ReadAsStringAsync();
        Assert.Fail($"{(int)response.StatusCode} {response.StatusCode} from {response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: {body}");
    }
}

public sealed record JobDto(
    Guid Id,
    string Type,
    string Queue,
    int Priority,
    string State,
    int Attempt,
    int MaxAttempts,
    ProgressDto? Progress,
    string? LastError,
    List<AttemptDto> Attempts,
    JsonElement? Result,
    DateTimeOffset CreatedAt,
    DateTimeOffset ScheduledAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt);

/// <summary>One page of GET /v1/jobs.</summary>
public sealed record JobPageDto(List<JobDto> Items, string? NextCursor);

public sealed record ProgressDto(int Percent, string? Message);

public sealed record AttemptDto(int Attempt, string Node, string Outcome, string? Error, DateTimeOffset StartedAt, DateTimeOffset FinishedAt);
