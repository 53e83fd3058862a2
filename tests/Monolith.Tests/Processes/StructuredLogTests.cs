using System.Text.Json;
using Monolith.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Monolith.Tests.Processes;

[Collection("Processes")]
public sealed class StructuredLogTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Logs_AreJsonLines_WithJobFields_AndNoSecrets()
    {
        await using var group = await ProcessGroup.CreateAsync("logs");
        var node = (await group.StartAsync(new NodeSpec("all", "logs-1")))[0];
        await output.WithLogsOnFailureAsync(group, async () =>
        {
            using var admin = node.CreateClient();
            var tenant = await admin.PostJsonAsync<MonolithFactory.CreatedTenant>("/v1/admin/tenants", new { name = "logs" });
            using var client = node.CreateClient(tenant.ApiKey.Key);
            const string secret = "payload-secret-7f3a";

            var echo = await client.SubmitJobAsync("noop", new { echo = secret });
            // A quick success is logged at Debug (one line per attempt, docs/engine.md); one slower than a second at
            // Information, so this job's line is in the log.
            var job = await client.SubmitJobAsync("sleep", new { ms = 1_100 });
            await client.WaitForStateAsync(echo.Id, "succeeded");
            await client.WaitForStateAsync(job.Id, "succeeded");
            // The job's line is written when its outcome is: wait until it has reached the node's stdout.
            await ProcessTestKit.WaitUntilAsync("the sleep job's log line reached stdout", TimeSpan.FromSeconds(10),
                () => Task.FromResult(node.Lines.Any(l => l.Contains(job.Id.ToString(), StringComparison.Ordinal))),
                () => Task.FromResult(node.Tail(10)));

            var lines = node.Lines.Where(l => l.TrimStart().StartsWith('{')).ToList();
            Assert.NotEmpty(lines);
            var parsed = lines.Select(l => JsonDocument.Parse(l).RootElement).ToList(); // every line is JSON
            var jobLines = parsed.Where(l => ScopeValue(l, "JobId") == job.Id.ToString()).ToList();
            Assert.NotEmpty(jobLines);
            Assert.All(jobLines, l =>
            {
                Assert.Equal("sleep", ScopeValue(l, "JobType"));
                Assert.Equal("1", ScopeValue(l, "Attempt"));
                Assert.Equal("logs-1", ScopeValue(l, "Node"));
                Assert.Equal(tenant.Tenant.Id.ToString(), ScopeValue(l, "TenantId"));
            });
            var all = string.Join('\n', node.Lines);
            Assert.DoesNotContain(secret, all);
            Assert.DoesNotContain(tenant.ApiKey.Key, all);
            Assert.DoesNotContain(MonolithFactory.AdminKey, all);
        });
    }

    [Fact]
    public async Task FirstStart_OnAnEmptyDatabase_LogsNoError()
    {
        await using var group = await ProcessGroup.CreateEmptyAsync("firststart");
        var node = (await group.StartAsync(new NodeSpec("all", "first-1")))[0];
        await output.WithLogsOnFailureAsync(group, async () =>
        {
            var lines = node.Lines.Where(l => l.TrimStart().StartsWith('{')).Select(l => JsonDocument.Parse(l).RootElement).ToList();

            // The node migrated the empty database (so this start is the one that could have logged the error)...
            Assert.Contains(lines, l => l.GetProperty("Message").GetString()!.StartsWith("Database schema is up to date", StringComparison.Ordinal));
            // ...and said nothing a newcomer would read as a failure.
            var errors = lines.Where(l => l.GetProperty("LogLevel").GetString() is "Error" or "Critical").Select(l => l.GetRawText()).ToList();
            Assert.True(errors.Count == 0, "Logged at Error on a first start:\n" + string.Join('\n', errors));
        });
    }

    [Fact]
    public async Task Logs_WithTheSimpleFormatter_AreReadableLines_ForAPersonAtATerminal()
    {
        await using var group = await ProcessGroup.CreateAsync("textlogs");
        var node = (await group.StartAsync(new NodeSpec("all", "text-1",
            new Dictionary<string, string> { ["Logging__Console__FormatterName"] = "simple" })))[0];
        await output.WithLogsOnFailureAsync(group, async () =>
        {
            using var admin = node.CreateClient();
            var tenant = await admin.PostJsonAsync<MonolithFactory.CreatedTenant>("/v1/admin/tenants", new { name = "text-logs" });
            using var client = node.CreateClient(tenant.ApiKey.Key);
            var job = await client.SubmitJobAsync("noop", new { echo = "payload-secret-4b1d" });
            await client.WaitForStateAsync(job.Id, "succeeded");

            var lines = node.Lines.Where(l => l.Length > 0).ToList();
            Assert.DoesNotContain(lines, l => l.TrimStart().StartsWith('{')); // no JSON
            // One line per entry: "HH:mm:ss level: Category[event] message".
            Assert.Contains(lines, l => System.Text.RegularExpressions.Regex.IsMatch(l,
                @"^\d\d:\d\d:\d\d info: Monolith\.Domain\.Persistence\.DatabaseMigrator\[\d+\] Database schema is up to date"));
            Assert.Contains(lines, l => l.Contains("info: Microsoft.Hosting.Lifetime", StringComparison.Ordinal) && l.Contains("Now listening on: " + node.BaseUrl, StringComparison.Ordinal));
            Assert.DoesNotContain("payload-secret-4b1d", string.Join('\n', lines));
            Assert.DoesNotContain(tenant.ApiKey.Key, string.Join('\n', lines));
        });
    }

    private static string? ScopeValue(JsonElement line, string name)
    {
        if (!line.TryGetProperty("Scopes", out var scopes)) return null;
        foreach (var scope in scopes.EnumerateArray())
        {
            if (scope.ValueKind == JsonValueKind.Object && scope.TryGetProperty(name, out var value))
            {
                return value.ValueKind == JsonValueKind.String ? value.GetString() : value.GetRawText();
            }
        }
        return null;
    }
}
