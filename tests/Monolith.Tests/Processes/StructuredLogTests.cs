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

            var job = await client.SubmitJobAsync("noop", new { echo = secret });
            await client.WaitForStateAsync(job.Id, "succeeded");
            await Task.Delay(200); // let the last lines reach stdout

            var lines = node.Lines.Where(l => l.TrimStart().StartsWith('{')).ToList();
            Assert.NotEmpty(lines);
            var parsed = lines.Select(l => JsonDocument.Parse(l).RootElement).ToList(); // every line is JSON
            var jobLines = parsed.Where(l => ScopeValue(l, "JobId") == job.Id.ToString()).ToList();
            Assert.NotEmpty(jobLines);
            Assert.All(jobLines, l =>
            {
                Assert.Equal("noop", ScopeValue(l, "JobType"));
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
