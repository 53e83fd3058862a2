using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Monolith.Tests.Contract;
using Monolith.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Monolith.Tests.Security;

/// <summary>
/// Hostile requests to every operation of the service's own OpenAPI document (<see cref="FuzzRequests"/>), each sent
/// with a tenant's key, the admin key and no key: no answer may be a 5xx (or no answer at all), every answer must be one
/// the document lists, and afterwards another tenant's jobs still run. Deterministic seed; bounded in time.
/// </summary>
[Collection("Heavy")]
public sealed class ApiFuzzTests(ITestOutputHelper output)
{
    private const int Seed = 11;
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(15);

    /// <summary>Labels of the cases sent first in each operation's turn.</summary>
    private static readonly string[] FirstPriority =
        ["baseline", "\\u0000", "%00", "\\ud800", "charset=bogus", "multipart:", "file name", "Content-Type with NUL", "AAAA"];

    [Fact]
    public async Task HostileRequestsToEveryOperation_NeverAnswer5xx_AndAnotherTenantsJobsStillRun()
    {
        await using var app = new FuzzFactory();
        await app.InitializeAsync();
        using var admin = app.CreateAdminClient();
        using var bystander = await app.CreateTenantClientAsync(); // never fuzzed: its jobs must still run afterwards
        var fuzzer = await admin.PostJsonAsync<MonolithFactory.CreatedTenant>("/v1/admin/tenants", new { name = "fuzzer" });
        using var tenant = app.CreateClient();
        tenant.DefaultRequestHeaders.Add("X-Api-Key", fuzzer.ApiKey.Key);
        using var anonymous = app.CreateClient();
        var known = await KnownValuesAsync(admin, tenant, fuzzer.Tenant.Id);

        var contract = (await app.ContractAsync())!;
        var random = new Random(Seed);
        var requests = new FuzzRequests(contract, (operation, name) => KnownValue(known, operation, name), name => KnownBodyValue(known, name), random);
        var perOperation = new List<List<FuzzCase>>();
        foreach (var operation in contract.Operations)
        {
            // Text PostgreSQL cannot store, charsets and broken framing first (what broke before), the rest in a seeded order.
            perOperation.Add([.. (await requests.ForAsync(operation)).Select(c => (Case: c, Order: random.Next()))
                .OrderBy(c => FirstPriority.Any(p => c.Case.Label.Contains(p, StringComparison.Ordinal)) ? 0 : 1).ThenBy(c => c.Order)
                .Select(c => c.Case)]);
        }
        // Every operation gets its turn in each round, so that the time budget cuts all of them short alike.
        var schedule = Enumerable.Range(0, perOperation.Max(c => c.Count))
            .SelectMany(i => perOperation.Where(c => i < c.Count).Select(c => c[i]))
            .Select((fuzzCase, i) => (fuzzCase, Index: i))
            .ToList();

        var clients = new[] { tenant, admin, anonymous };
        var keyNames = new[] { "tenant key", "admin key", "no key" };
        var failures = new ConcurrentBag<string>();
        var statuses = new ConcurrentDictionary<int, int>();
        var sent = 0;
        var notSent = 0;
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(schedule, new ParallelOptions { MaxDegreeOfParallelism = 6 }, async (item, ct) =>
        {
            if (clock.Elapsed > Budget) return;
            // Each case once with every key, starting with a different one each time.
            // With the tenant's key and the admin key each time; with no key one time in four (it stops at authentication).
            for (var k = 0; k < clients.Length; k++)
            {
                var key = (item.Index + k) % clients.Length;
                if (key == 2 && item.Index % 4 != 0) continue;
                HttpRequestMessage request;
                try
                {
                    request = item.fuzzCase.Build();
                }
                catch (Exception ex) when (ex is FormatException or InvalidOperationException or ArgumentException or UriFormatException)
                {
                    Interlocked.Increment(ref notSent); // HttpClient itself refuses to write this request
                    return;
                }
                using var sending = request;
                var label = $"{item.fuzzCase.Operation} [{item.fuzzCase.Label}] with {keyNames[key]}";
                using var timeout = new CancellationTokenSource(RequestTimeout);
                try
                {
                    using var response = await clients[key].SendAsync(request, timeout.Token);
                    Interlocked.Increment(ref sent);
                    statuses.AddOrUpdate((int)response.StatusCode, 1, (_, n) => n + 1);
                    if ((int)response.StatusCode >= 500)
                    {
                        var body = await response.Content.ReadAsStringAsync(CancellationToken.None);
                        var cause = TraceId(body) is { } traceId ? app.ExceptionOf(traceId) : null;
                        failures.Add($"{(int)response.StatusCode} {label}: {request.Method} {Shorten(request.RequestUri!.OriginalString)} → " +
                                     (cause is null ? Shorten(body) : Shorten(cause)));
                    }
                }
                catch (OperationCanceledException) when (timeout.IsCancellationRequested)
                {
                    Interlocked.Increment(ref sent);
                    failures.Add($"no answer in {RequestTimeout.TotalSeconds} s: {label}: {request.Method} {Shorten(request.RequestUri!.OriginalString)}");
                }
                catch (InvalidOperationException ex) when (ex.Message.Contains("null characters", StringComparison.Ordinal))
                {
                    Interlocked.Increment(ref notSent); // the test host refuses a NUL in the path, as Kestrel answers it 400
                }
                catch (Exception ex) when (ex is HttpRequestException or IOException or InvalidOperationException)
                {
                    Interlocked.Increment(ref sent);
                    failures.Add($"request failed ({ex.GetType().Name}: {Shorten(ex.Message)}): {label}: {request.Method} {Shorten(request.RequestUri!.OriginalString)}");
                }
            }
        });
        var fuzzTime = clock.Elapsed;

        // The fuzzer's own long jobs (sleeps, vendor calls to nowhere) are legitimate work; cancel them so that the
        // bystander's jobs get worker slots, then check that the node still runs and records jobs.
        await CancelOpenJobsAsync(tenant);
        await CancelOpenJobsAsync(admin);
        var bystanderJobs = new List<Guid>();
        for (var i = 0; i < 5; i++) bystanderJobs.Add((await bystander.SubmitJobAsync("noop", new { echo = $"still here {i}" })).Id);
        var stuck = new List<string>();
        foreach (var id in bystanderJobs)
        {
            var job = await WaitForFinishedAsync(bystander, id, TimeSpan.FromSeconds(60));
            if (job.State != "succeeded") stuck.Add($"{id}: {job.State} ({job.LastError})");
        }

        var violations = app.ContractViolations.TakeAll().Distinct().ToList();
        var report = $"Fuzz: {sent:N0} requests sent ({notSent} refused by HttpClient or the test host before the service) to {contract.Operations.Count} operations in " +
                     $"{fuzzTime.TotalSeconds:N0} s (of {schedule.Count * 2 + (schedule.Count + 3) / 4:N0} scheduled, seed {Seed}); answers: " +
                     string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}×{s.Value}"));
        output.WriteLine(report);
        Console.WriteLine(report);
        foreach (var failure in failures.Order()) output.WriteLine(failure);

        var message = new StringBuilder(report).AppendLine();
        if (!failures.IsEmpty)
        {
            message.AppendLine($"{failures.Count} answers were 5xx, or none (grouped by operation and what was hostile; first of each):");
            foreach (var group in failures.GroupBy(Class).OrderBy(g => g.Key).Take(80))
            {
                message.AppendLine($"  ×{group.Count()} {group.Order().First()}");
            }
        }
        if (stuck.Count > 0) message.AppendLine("Another tenant's noop jobs did not succeed afterwards: " + string.Join("; ", stuck));
        if (violations.Count > 0)
        {
            message.AppendLine($"{violations.Count} answers broke the OpenAPI document (first 40):");
            foreach (var violation in violations.Take(40)) message.AppendLine("  " + Shorten(violation, 600));
        }
        Assert.True(failures.IsEmpty && stuck.Count == 0 && violations.Count == 0, message.ToString());
        Assert.True(sent >= 1_000, $"Only {sent} requests were sent in the time budget: {report}");
    }

    /// <summary>Ids and names that exist, so that hostile values reach the handlers behind valid routes.</summary>
    private static async Task<Dictionary<string, string>> KnownValuesAsync(HttpClient admin, HttpClient tenant, Guid tenantId)
    {
        var job = await tenant.SubmitJobAsync("noop", new { echo = "fuzz" });
        await tenant.WaitForStateAsync(job.Id, "succeeded");
        using var document = new ByteArrayContent("%PDF-1.7 fuzz"u8.ToArray());
        document.Headers.ContentType = new("application/pdf");
        using var uploaded = await tenant.PostAsync("/v1/uploads?filename=fuzz.pdf", document);
        var upload = await uploaded.Content.ReadFromJsonAsync<JsonElement>();
        var transfer = await tenant.PostJsonAsync<JsonElement>("/v1/transfers", new
        {
            source = new { type = "upload", uploadId = upload.GetProperty("id").GetGuid() },
            destination = new { type = "directory", path = "fuzz/fuzz.pdf" },
        });
        using var form = new MultipartFormDataContent
        {
            { new StringContent("US"), "country" },
            { new ByteArrayContent("Olivia,F,10\r\n"u8.ToArray()), "file", "yob2020.txt" },
        };
        using var datasetAnswer = await tenant.PostAsync("/v1/datasets", form);
        var dataset = await datasetAnswer.Content.ReadFromJsonAsync<JsonElement>();
        var spareKey = await admin.PostJsonAsync<JsonElement>($"/v1/admin/tenants/{tenantId}/keys", new { name = "spare" });
        // A second document for bodies to name (uploadId): the first may be deleted by DELETE /v1/uploads/{id} meanwhile.
        using var source = new ByteArrayContent("%PDF-1.7 fuzz source"u8.ToArray());
        source.Headers.ContentType = new("application/pdf");
        using var sourceUploaded = await tenant.PostAsync("/v1/uploads?filename=source.pdf", source);
        var sourceUpload = await sourceUploaded.Content.ReadFromJsonAsync<JsonElement>();
        return new Dictionary<string, string>
        {
            ["/v1/jobs"] = job.Id.ToString(),
            ["/v1/uploads"] = upload.GetProperty("id").GetGuid().ToString(),
            ["/v1/transfers"] = transfer.GetProperty("id").GetGuid().ToString(),
            ["/v1/datasets"] = dataset.GetProperty("id").GetGuid().ToString(),
            ["tenantId"] = tenantId.ToString(),
            ["keyId"] = spareKey.GetProperty("id").GetGuid().ToString(),
            ["uploadId"] = sourceUpload.GetProperty("id").GetGuid().ToString(),
        };
    }

    private static string? KnownValue(Dictionary<string, string> known, OpenApiOperation operation, string name) => name switch
    {
        "id" => known.FirstOrDefault(k => operation.Template.StartsWith(k.Key + "/", StringComparison.Ordinal)).Value,
        "tenantId" or "keyId" => known[name],
        "name" when operation.Template.StartsWith("/v1/queues", StringComparison.Ordinal) => "low",
        "name" when operation.Template.StartsWith("/v1/snapshots", StringComparison.Ordinal) => "people",
        "name" => "Olivia",
        "externalId" => "a",
        _ => null,
    };

    /// <summary>Real values for body properties that name something that must exist; a URL the test settings let the service call (nothing listens there).</summary>
    private static JsonNode? KnownBodyValue(Dictionary<string, string> known, string name) => name switch
    {
        "uploadId" => known["uploadId"],
        "datasetId" => known["/v1/datasets"],
        "transferId" => known["/v1/transfers"],
        "url" => "http://127.0.0.1:9/fuzz",
        "callbackUrl" => null,
        _ => null,
    };

    /// <summary>Cancels every job the client sees that is still waiting or running.</summary>
    private static async Task CancelOpenJobsAsync(HttpClient client)
    {
        foreach (var state in new[] { "running", "retrying", "queued", "scheduled" })
        {
            string? cursor = null;
            do
            {
                var page = await client.GetFromJsonAsync<JsonElement>($"/v1/jobs?state={state}&limit=200" + (cursor is null ? "" : $"&cursor={cursor}"));
                foreach (var job in page.GetProperty("items").EnumerateArray())
                {
                    using var _ = await client.PostAsync($"/v1/jobs/{job.GetProperty("id").GetGuid()}/cancel", null);
                }
                cursor = page.GetProperty("nextCursor").GetString();
            }
            while (cursor is not null);
        }
    }

    private static async Task<JobDto> WaitForFinishedAsync(HttpClient client, Guid id, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            using var response = await client.GetAsync($"/v1/jobs/{id}?wait=5");
            var job = (await response.Content.ReadFromJsonAsync<JobDto>(JobClientExtensions.Json))!;
            if (job.State is "succeeded" or "failed" or "cancelled" || clock.Elapsed > timeout) return job;
        }
    }

    /// <summary>The trace id of a problem body (the request id its exception was logged under).</summary>
    private static string? TraceId(string body)
    {
        try
        {
            return JsonDocument.Parse(body).RootElement.TryGetProperty("traceId", out var id) ? id.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>What a failure is about: its status, operation and the kind of hostile input, without the value.</summary>
    private static string Class(string failure)
    {
        var bracket = failure.IndexOf('[');
        var end = failure.IndexOf(']', Math.Max(bracket, 0));
        if (bracket < 0 || end < 0) return failure;
        var label = failure[(bracket + 1)..end];
        var cut = label.IndexOfAny(['=', ':']);
        return failure[..bracket] + (cut > 0 ? label[..cut] : label);
    }

    private static string Shorten(string text, int length = 300) => text.Length <= length ? text : text[..length] + "…";
}
