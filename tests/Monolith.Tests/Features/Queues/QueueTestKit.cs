using System.Net.Http.Json;
using Monolith.Tests.Infrastructure;
using Npgsql;

namespace Monolith.Tests.Features.Queues;

/// <summary>GET /v1/queues as a client reads it, and the SQL the queue tests check rows with.</summary>
public static class QueueTestKit
{
    public static async Task<QueueListDto> GetQueuesAsync(this HttpClient client)
    {
        using var response = await client.GetAsync("/v1/queues");
        await JobClientExtensions.EnsureSuccessAsync(response);
        return (await response.Content.ReadFromJsonAsync<QueueListDto>(JobClientExtensions.Json))!;
    }

    public static async Task<QueueDto> GetQueueAsync(this HttpClient client, string name) =>
        (await client.GetQueuesAsync()).Items.Single(q => q.Name == name);

    public static async Task PauseAsync(this HttpClient admin, string queue) =>
        Assert.True((await admin.PostJsonAsync<PauseDto>($"/v1/queues/{queue}/pause", new { })).Paused);

    public static async Task ResumeAsync(this HttpClient admin, string queue) =>
        Assert.False((await admin.PostJsonAsync<PauseDto>($"/v1/queues/{queue}/resume", new { })).Paused);

    /// <summary>Polls until <paramref name="done"/> holds of the queue's figures; fails with the last figures after 30 s.</summary>
    public static async Task<QueueDto> WaitForQueueAsync(this HttpClient client, string name, Func<QueueDto, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var queue = await client.GetQueueAsync(name);
            if (done(queue)) return queue;
            if (DateTime.UtcNow > deadline) Assert.Fail($"Queue {name} did not reach the expected figures: {queue}");
            await Task.Delay(50);
        }
    }

    /// <summary>A tenant's counts as the jobs table has them (the truth the counters must match).</summary>
    public static async Task<Dictionary<(string Queue, string State), long>> CountFromJobsAsync(string databaseUrl, Guid? tenantId)
    {
        await using var connection = await TestDatabase.OpenAsync(databaseUrl);
        await using var command = new NpgsqlCommand(
            "SELECT queue, state, count(*) FROM jobs WHERE @tenant::uuid IS NULL OR tenant_id = @tenant GROUP BY 1, 2", connection);
        command.Parameters.AddWithValue("tenant", NpgsqlTypes.NpgsqlDbType.Uuid, (object?)tenantId ?? DBNull.Value);
        var counts = new Dictionary<(string, string), long>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) counts[(reader.GetString(0), reader.GetString(1))] = reader.GetInt64(2);
        return counts;
    }

    public static async Task<long> ScalarAsync(string databaseUrl, string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = await TestDatabase.OpenAsync(databaseUrl);
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }

    public static async Task ExecuteAsync(string databaseUrl, string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = await TestDatabase.OpenAsync(databaseUrl);
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>A fresh tenant, a client sending its key, and its id (to check its rows with SQL).</summary>
    public static async Task<(HttpClient Client, Guid TenantId)> CreateTenantAsync(this MonolithFactory app)
    {
        using var admin = app.CreateAdminClient();
        var created = await admin.PostJsonAsync<MonolithFactory.CreatedTenant>(
            "/v1/admin/tenants", new { name = "tenant-" + Guid.NewGuid().ToString("N")[..8] });
        var client = app.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", created.ApiKey.Key);
        return (client, created.Tenant.Id);
    }
}

public sealed record QueueListDto(List<QueueDto> Items, DateTimeOffset MeasuredAt);

public sealed record QueueDto(string Name, bool Paused, DateTimeOffset? PausedAt, CountsDto Counts, double OldestQueuedAgeSeconds)
{
    public override string ToString() => $"{Name}: paused={Paused} {Counts} oldestQueuedAgeSeconds={OldestQueuedAgeSeconds}";
}

public sealed record CountsDto(long Scheduled, long Queued, long Running, long Retrying, long Succeeded, long Failed, long Cancelled)
{
    public static readonly CountsDto Zero = new(0, 0, 0, 0, 0, 0, 0);
}

public sealed record PauseDto(string Name, bool Paused, DateTimeOffset? PausedAt, string? PausedBy);
