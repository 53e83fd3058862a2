using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Monolith.Bench;

/// <summary>
/// Scenario 11 (issue 12): fair share across tenants. Tenant A queues <see cref="FairnessBacklog"/> <c>sleep</c> jobs of
/// <see cref="SleepMs"/> ms on a worker node with <see cref="SleepSlots"/> slots; right after, tenant B submits one
/// <c>noop</c> to the same queue. How long B's job waits to start (its started_at − created_at) says whether tenants take
/// turns or B waits behind A's whole backlog.
/// </summary>
public sealed partial class Bench
{
    private const int FairnessBacklog = 10_000;
    private double? _fairnessDelayMs;

    private async Task FairnessAsync()
    {
        var database = await db.CreateDatabaseAsync("bench_s11_fairness");
        await using var api = await StartAsync(database, "api", "s11-api");
        await using var worker = await StartAsync(database, "worker", "s11-worker",
            new Dictionary<string, string> { ["WORKER_CONCURRENCY"] = SleepSlots.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        using var admin = Load.Client(api.BaseUrl);
        var (tenantA, keyA) = await CreateTenantAsync(admin, "bench-backlog");
        var (tenantB, keyB) = await CreateTenantAsync(admin, "bench-single");
        using var a = Load.Client(api.BaseUrl, keyA);
        using var b = Load.Client(api.BaseUrl, keyB);

        var backlog = await Load.SubmitAsync(a, Load.Sleep(SleepMs), BatchClients, FairnessBacklog, null, BatchSize);
        Line($"tenant A queued {backlog.Accepted} sleep jobs of {SleepMs} ms in {backlog.Elapsed.TotalSeconds:F1} s ({backlog.Failed} failed) while the worker ran them");

        Guid id;
        using (var content = new StringContent(Load.Noop, Encoding.UTF8, "application/json"))
        using (var response = await b.PostAsync("/v1/jobs", content))
        {
            var body = await response.Content.ReadAsStringAsync();
            if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"tenant B's submit answered {(int)response.StatusCode}: {body}");
            using var doc = JsonDocument.Parse(body);
            id = doc.RootElement.GetProperty("id").GetGuid();
        }

        // A's backlog runs ideally in FairnessBacklog × SleepMs / SleepSlots; wait three times that (and a minute) for B's job.
        var timeout = TimeSpan.FromMilliseconds(FairnessBacklog * (double)SleepMs / SleepSlots * 3) + TimeSpan.FromMinutes(1);
        var clock = Stopwatch.StartNew();
        object?[]? started = null;
        while (clock.Elapsed < timeout)
        {
            var row = (await db.RowsAsync(database,
                """
                SELECT (extract(epoch FROM j.started_at - j.created_at) * 1000)::float8,
                       (SELECT count(*) FROM jobs o WHERE o.tenant_id = @a AND o.started_at < j.started_at),
                       (SELECT count(*) FROM jobs o WHERE o.tenant_id = @a AND o.started_at IS NULL)
                FROM jobs j WHERE j.id = @id AND j.started_at IS NOT NULL
                """, ("id", id), ("a", tenantA)));
            if (row.Count > 0)
            {
                started = row[0];
                break;
            }
            await Task.Delay(20);
        }
        if (started is null)
        {
            Result($"tenant B's noop had NOT started {clock.Elapsed.TotalSeconds:F0} s after it was submitted (behind tenant A's {FairnessBacklog:N0} jobs)");
            return;
        }
        var delayMs = (double)started[0]!;
        Result($"tenant B's noop started {delayMs:F0} ms after it was submitted (started_at − created_at), behind tenant A's backlog of {FairnessBacklog:N0}");
        Line($"tenant A's jobs started before it: {started[1]}; still waiting when it started: {started[2]} (tenant B: {tenantB})");
        _fairnessDelayMs = delayMs;
    }

    /// <summary>Creates a tenant with the admin key; returns its id and its first API key.</summary>
    private static async Task<(Guid Id, string Key)> CreateTenantAsync(HttpClient admin, string name)
    {
        using var content = new StringContent(JsonSerializer.Serialize(new { name }), Encoding.UTF8, "application/json");
        using var response = await admin.PostAsync("/v1/admin/tenants", content);
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"POST /v1/admin/tenants answered {(int)response.StatusCode}: {body}");
        using var doc = JsonDocument.Parse(body);
        return (doc.RootElement.GetProperty("tenant").GetProperty("id").GetGuid(), doc.RootElement.GetProperty("apiKey").GetProperty("key").GetString()!);
    }
}
