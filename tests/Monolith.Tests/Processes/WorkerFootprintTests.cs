using System.Text.Json;
using Monolith.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Monolith.Tests.Processes;

/// <summary>
/// What a <c>worker</c> process holds in memory (docs/performance.md, "Memory"): it serves only /health/* and /metrics,
/// so it must not load the API's assemblies, which an <c>api</c> node started the same way does load. Read from the
/// real processes' /proc/&lt;pid&gt;/maps: a registration in the host's DI is not enough to show it, since the JIT loads
/// an assembly as soon as it compiles a method that names one of its types.
/// </summary>
[Collection("Processes")]
public sealed class WorkerFootprintTests(ITestOutputHelper output)
{
    /// <summary>Swagger, the validators' DI scan, API-key and cookie authentication, Data Protection, OpenTelemetry.</summary>
    private static readonly string[] ApiOnlyAssemblies =
    [
        "Swashbuckle.AspNetCore.SwaggerGen.dll",
        "Microsoft.OpenApi.dll",
        "FluentValidation.DependencyInjectionExtensions.dll",
        "Microsoft.AspNetCore.Authentication.dll",
        "Microsoft.AspNetCore.DataProtection.dll",
    ];

    [Fact]
    public async Task WorkerNode_LoadsNoneOfTheApisAssemblies_WhichAnApiNodeLoads()
    {
        await using var group = await ProcessGroup.CreateAsync("footprint");
        var nodes = await group.StartAsync(new NodeSpec("worker", "footprint-worker"), new NodeSpec("api", "footprint-api"));
        await output.WithLogsOnFailureAsync(group, () =>
        {
            var worker = MappedAssemblies(nodes[0].Pid);
            var api = MappedAssemblies(nodes[1].Pid);
            output.Report($"assemblies mapped: worker {worker.Count}, api {api.Count}");

            Assert.All(ApiOnlyAssemblies, name => Assert.Contains(name, api)); // the check sees them where they are loaded
            Assert.All(ApiOnlyAssemblies, name => Assert.DoesNotContain(name, worker));
            Assert.DoesNotContain("OpenTelemetry.dll", worker); // tracing is off here (no OTLP endpoint)
            return Task.CompletedTask;
        });
    }

    [Fact]
    public void RuntimeConfig_TurnsDynamicPgoOff()
    {
        // TieredPGO in Monolith.Api.csproj: measured to cost memory and CPU in a worker's drain (docs/performance.md).
        var path = Path.ChangeExtension(TestNodes.ApiDllPath(), ".runtimeconfig.json");
        using var config = JsonDocument.Parse(File.ReadAllText(path));
        var properties = config.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");

        Assert.False(properties.GetProperty("System.Runtime.TieredPGO").GetBoolean());
    }

    /// <summary>File names of the .dll files mapped into a process.</summary>
    private static HashSet<string> MappedAssemblies(int pid) =>
        File.ReadLines($"/proc/{pid}/maps")
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields.Length >= 6 && fields[5].EndsWith(".dll", StringComparison.Ordinal))
            .Select(fields => Path.GetFileName(fields[5]))
            .ToHashSet();
}
