using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Monolith.Tests.Infrastructure;
using Npgsql;

namespace Monolith.Tests.Features.Jobs;

/// <summary>POST /v1/jobs/batch: up to 1,000 jobs in one transaction, ids in order; and group-committed single submits.</summary>
public sealed class BatchSubmitTests(MonolithFactory app) : IClassFixture<MonolithFactory>
{
    private sealed record BatchResponse(List<Guid> Ids);

    [Fact]
    public async Task Batch_OfAThousand_IsStoredWhole_AndAnswersTheIdsInOrder()
    {
        var client = await app.CreateTenantClientAsync();
        var jobs = Enumerable.Range(0, 1000).Select(i => new { type = "noop", payload = new { echo = $"job-{i}" } }).ToList();

        using var response = await client.PostAsJsonAsync("/v1/jobs/batch", new { jobs });

        await JobClientExtensions.EnsureSuccessAsync(response);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var ids = (await response.Content.ReadFromJsonAsync<BatchResponse>(JobClientExtensions.Json))!.Ids;
        Assert.Equal(1000, ids.Count);
        Assert.Equal(1000, ids.Distinct().Count());

        await using var connection = await TestDatabase.OpenAsync(app.DatabaseUrl);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        Dictionary<Guid, (string Echo, string State)> stored;
        do
        {
            await Task.Delay(200);
            stored = await EchoesAsync(connection, ids);
        } while (stored.Values.Any(s => s.State != "succeeded") && DateTime.UtcNow < deadline);

        Assert.All(ids.Select((id, i) => (id, i)), x => Assert.Equal($"job-{x.i}", stored[x.id].Echo));
        Assert.All(stored.Values, s => Assert.Equal("succeeded", s.State));
    }

    [Fact]
    public async Task Batch_WithOneInvalidJob_Is400NamingIt_AndStoresNone()
    {
        var client = await app.CreateTenantClientAsync();
        var body = """
            {"jobs":[{"type":"noop","payload":{}},{"type":"noop","payload":{}},{"type":"sleep","payload":{"ms":-1}},{"type":"nope","payload":{}}]}
            """;

        var problem = await PostRawAsync(client, body);

        var keys = problem.GetProperty("errors").EnumerateObject().Select(p => p.Name).ToArray();
        Assert.Contains("jobs[2].payload.ms", keys);
        Assert.Contains("jobs[3].type", keys);
        var page = await client.GetFromJsonAsync<JsonElement>("/v1/jobs");
        Assert.Equal(0, page.GetProperty("items").GetArrayLength());
    }

    [Theory]
    [InlineData("""{"jobs":[]}""", "jobs")]
    [InlineData("""{}""", "jobs")]
    [InlineData("""{"jobs":[null]}""", "jobs[0]")]
    [InlineData("""{"jobs":[{"type":"noop","payload":{},"priority":"high"}]}""", "jobs[0].priority")]
    public async Task Batch_BadShape_Is400NamingTheField(string json, string field)
    {
        var client = await app.CreateTenantClientAsync();

        var problem = await PostRawAsync(client, json);

        Assert.Contains(field, problem.GetProperty("errors").EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task Batch_OverAThousand_Is400()
    {
        var client = await app.CreateTenantClientAsync();
        var jobs = Enumerable.Range(0, 1001).Select(_ => new { type = "noop", payload = new { } });

        var problem = await PostRawAsync(client, JsonSerializer.Serialize(new { jobs }));

        Assert.Contains("1,000", problem.GetProperty("errors").GetProperty("jobs")[0].GetString());
    }

    [Fact]
    public async Task Batch_SharesTickets_AHundredJobsEach()
    {
        var client = await app.CreateTenantClientAsync();
        var runAt = DateTimeOffset.UtcNow.AddMinutes(30); // not due: the tickets stay in place to be counted
        var jobs = Enumerable.Range(0, 250).Select(_ => new { type = "noop", payload = new { }, runAt });

        using var response = await client.PostAsJsonAsync("/v1/jobs/batch", new { jobs }, JobClientExtensions.Json);

        await JobClientExtensions.EnsureSuccessAsync(response);
        Assert.Equal(3, await TicketsDueAtAsync(runAt));
    }

    [Fact]
    public async Task SingleSubmits_ArrivingTogether_AreGroupCommitted_IntoFewerTickets()
    {
        var client = await app.CreateTenantClientAsync();
        var runAt = DateTimeOffset.UtcNow.AddMinutes(40).AddSeconds(7); // a due time no other test uses

        var submitted = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => client.SubmitJobAsync("noop", new { }, new { runAt })));

        Assert.Equal(50, submitted.Select(j => j.Id).Distinct().Count());
        Assert.All(submitted, j => Assert.Equal("scheduled", j.State));
        var tickets = await TicketsDueAtAsync(runAt);
        Assert.InRange(tickets, 1, 49);
    }

    private async Task<long> TicketsDueAtAsync(DateTimeOffset runAt)
    {
        await using var connection = await TestDatabase.OpenAsync(app.DatabaseUrl);
        await using var count = new NpgsqlCommand(
            "SELECT count(*) FROM quartz.qrtz_triggers WHERE job_name = 'DispatchJob' AND next_fire_time BETWEEN @from AND @to",
            connection);
        count.Parameters.AddWithValue("from", runAt.AddSeconds(-1).UtcTicks);
        count.Parameters.AddWithValue("to", runAt.AddSeconds(1).UtcTicks);
        return (long)(await count.ExecuteScalarAsync())!;
    }

    private static async Task<Dictionary<Guid, (string Echo, string State)>> EchoesAsync(NpgsqlConnection connection, List<Guid> ids)
    {
        await using var query = new NpgsqlCommand("SELECT id, payload->>'echo', state FROM jobs WHERE id = ANY(@ids)", connection);
        query.Parameters.AddWithValue("ids", ids.ToArray());
        var result = new Dictionary<Guid, (string, string)>();
        await using var reader = await query.ExecuteReaderAsync();
        while (await reader.ReadAsync()) result[reader.GetGuid(0)] = (reader.GetString(1), reader.GetString(2));
        return result;
    }

    private static async Task<JsonElement> PostRawAsync(HttpClient client, string json)
    {
        using var response = await client.PostAsync("/v1/jobs/batch", new StringContent(json, Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"expected 400, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        Assert.DoesNotContain("   at ", body);
        return JsonDocument.Parse(body).RootElement;
    }
}
