using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using k8s.Models;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Monolith.Domain.Jobs;
using Monolith.Domain.Persistence;
using Monolith.Tests.Infrastructure;
using Monolith.Worker;
using Monolith.Worker.Engine;
using Monolith.Worker.Hosting;

namespace Monolith.Tests.Deploy;

/// <summary>
/// deploy/k8s, checked offline: every manifest against the Kubernetes and KEDA schemas (<see cref="ManifestSchema"/>),
/// then what the deployment promises: replicas, probes on the port the app listens on, a termination grace that
/// covers the app's shutdown, PDBs, the node id, secrets, non-root, KEDA scaling the workers on due waiting jobs.
/// Needs no database and no cluster.
/// </summary>
public sealed partial class KubernetesManifestTests
{
    private static readonly string Root = Repository.Root();
    private static readonly string ManifestFolder = Path.Combine(Root, "deploy", "k8s");
    private static readonly ManifestSchema Schema =
        ManifestSchema.Load(Path.Combine(Root, "tests", "Monolith.Tests", "Deploy", "schemas"));

    private const string ApiName = "monolith-api";
    private const string WorkerName = "monolith-worker";
    private const string SecretName = "monolith-secrets";
    /// <summary>The seconds the kubelet's grace period must exceed the app's own shutdown budget by.</summary>
    private const int GraceMarginSeconds = 5;

    public static TheoryData<string> ManifestFiles()
    {
        var data = new TheoryData<string>();
        foreach (var file in ResourceFiles()) data.Add(file);
        return data;
    }

    // ---------- schema ----------

    [Theory]
    [MemberData(nameof(ManifestFiles))]
    public void Manifest_IsValidAgainstTheKubernetesAndKedaSchemas(string file)
    {
        var documents = YamlDocuments.Load(File.ReadAllText(Path.Combine(ManifestFolder, file)));

        Assert.NotEmpty(documents);
        foreach (var document in documents)
        {
            var errors = Schema.Validate(document);
            Assert.True(errors.Count == 0, $"{file} ({document["kind"]} {document["metadata"]?["name"]}):\n" + string.Join("\n", errors));
        }
    }

    [Fact]
    public void SchemaCheck_KnowsTheKedaKindsFromOurSchema()
    {
        Assert.Contains("keda.sh/v1alpha1/ScaledObject", Schema.CustomKinds);
        Assert.Contains("keda.sh/v1alpha1/TriggerAuthentication", Schema.CustomKinds);
    }

    /// <summary>The check can fail: each real manifest, broken in one place, is rejected.</summary>
    [Theory]
    [InlineData("worker-deployment.yaml", "  replicas: 3", "  replica: 3", "'replica' could not be mapped")] // misspelled field
    [InlineData("api-deployment.yaml", "containerPort: 8080", "containerPort: \"8080\"", "converted to System.Int32. Path: $.spec.template.spec.containers[0].ports[0].containerPort")] // string for an integer
    [InlineData("api-deployment.yaml", "              path: /health/ready", "              paht: /health/ready", "'paht' could not be mapped")] // nested misspelling
    [InlineData("api-deployment.yaml", "memory: 512Mi", "memory: lots", "'lots' cannot be converted")] // not a quantity
    [InlineData("api-deployment.yaml", "        runAsNonRoot: true\n", "        runAsNonRoot: true\n        runAsNonRoot: true\n", "Duplicate key runAsNonRoot")] // duplicate key
    [InlineData("api-pdb.yaml", "apiVersion: policy/v1", "apiVersion: policy/v1beta1", "unknown kind")] // removed API version
    [InlineData("worker-scaledobject.yaml", "  minReplicaCount: 3", "  minReplicas: 3", "NoAdditionalPropertiesAllowed: #/spec.minReplicas")] // misspelled KEDA field
    [InlineData("worker-scaledobject.yaml", "  minReplicaCount: 3", "  minReplicaCount: -1", "NumberTooSmall: #/spec.minReplicaCount")] // replica counts are >= 0
    [InlineData("worker-scaledobject.yaml", "  pollingInterval: 15", "  pollingInterval: 15s", "IntegerExpected: #/spec.pollingInterval")] // seconds, not a duration
    [InlineData("worker-scaledobject.yaml", "    name: monolith-worker\n  pollingInterval", "  pollingInterval", "PropertyRequired: #/spec.scaleTargetRef.name")] // required scaleTargetRef.name missing
    [InlineData("worker-scaledobject.yaml", "    name: monolith-worker\n  pollingInterval", "    name: Monolith_Worker\n  pollingInterval", "PatternMismatch: #/spec.scaleTargetRef.name")] // not a Kubernetes object name
    [InlineData("worker-scaledobject.yaml", "        kind: TriggerAuthentication", "        kind: TriggerAuth", "NotInEnumeration: #/spec.triggers[0].authenticationRef.kind")] // not in the enum
    [InlineData("worker-scaledobject.yaml", "      metricType: AverageValue", "      metricType: Average", "NotInEnumeration: #/spec.triggers[0].metricType")] // not in the enum
    [InlineData("worker-scaledobject.yaml", "targetQueryValue: \"8\"", "targetQueryValue: 8", "StringExpected: #/spec.triggers[0].metadata.targetQueryValue")] // trigger metadata values are strings
    [InlineData("worker-scaledobject.yaml", "targetQueryValue: \"8\"", "targetQueryValue: \"eight\"", "PatternMismatch: #/spec.triggers[0].metadata.targetQueryValue")] // postgresql: a number in a string
    [InlineData("worker-scaledobject.yaml", "targetQueryValue: \"8\"", "targetValue: \"8\"", "NoAdditionalPropertiesAllowed: #/spec.triggers[0].metadata.targetValue")] // postgresql: not one of its parameters
    [InlineData("worker-scaledobject.yaml", "            - type: Pods", "            - type: Pod", "NotInEnumeration: #/spec.advanced.horizontalPodAutoscalerConfig.behavior.scaleDown.policies[0].type")] // HPA behavior
    [InlineData("worker-triggerauthentication.yaml", "      key: DATABASE_URL", "      secretKey: DATABASE_URL", "NoAdditionalPropertiesAllowed: #/spec.secretTargetRef[0].secretKey")]
    [InlineData("worker-scaledobject.yaml", "  name: monolith-worker\n  labels", "  nmae: monolith-worker\n  labels", "'nmae' could not be mapped")] // CR metadata is ObjectMeta
    public void SchemaCheck_RejectsABrokenManifest(string file, string from, string to, string expected)
    {
        var text = File.ReadAllText(Path.Combine(ManifestFolder, file));
        Assert.Contains(from, text); // the mutation must apply, or this test proves nothing

        var errors = ValidateText(text.Replace(from, to));

        Assert.NotEmpty(errors);
        Assert.True(errors.Any(e => e.Contains(expected, StringComparison.OrdinalIgnoreCase)),
            $"no error mentions '{expected}':\n{string.Join("\n", errors)}");
    }

    // ---------- the deployment's promises ----------

    [Fact]
    public void ApiDeployment_RunsTwoStatelessApiReplicasBehindAService()
    {
        var api = Deployment(ApiName);
        var service = Typed<V1Service>("Service", ApiName);

        Assert.Equal(2, api.Spec.Replicas);
        Assert.Equal("api", Env(api, "SERVICE_TYPE"));
        Assert.True(Selects(service.Spec.Selector, api.Spec.Template.Metadata.Labels), "the Service selects the api pods");
        Assert.False(Selects(service.Spec.Selector, Deployment(WorkerName).Spec.Template.Metadata.Labels), "and not the workers");
        var port = Assert.Single(service.Spec.Ports);
        Assert.Equal(HttpPort(api), ResolvePort(api, port.TargetPort));
    }

    [Fact]
    public void WorkerDeployment_RunsThreeWorkerReplicas()
    {
        var worker = Deployment(WorkerName);

        Assert.Equal(3, worker.Spec.Replicas);
        Assert.Equal("worker", Env(worker, "SERVICE_TYPE"));
        Assert.True(int.Parse(Env(worker, "WORKER_CONCURRENCY")!) >= 1);
    }

    [Theory]
    [InlineData(ApiName)]
    [InlineData(WorkerName)]
    public void Deployment_SelectsItsOwnPodTemplate(string name)
    {
        var deployment = Deployment(name);

        Assert.True(Selects(deployment.Spec.Selector.MatchLabels, deployment.Spec.Template.Metadata.Labels));
    }

    [Theory]
    [InlineData(ApiName)]
    [InlineData(WorkerName)]
    public void Probes_UseTheHealthEndpointsOnThePortTheAppListensOn(string name)
    {
        var deployment = Deployment(name);
        var container = Container(deployment);
        var listens = int.Parse(ListenPort().Match(Env(deployment, "ASPNETCORE_URLS")!).Groups[1].Value);

        Assert.Equal(listens, HttpPort(deployment));
        Assert.Equal("/health/live", container.LivenessProbe.HttpGet.Path);
        Assert.Equal("/health/ready", container.ReadinessProbe.HttpGet.Path);
        Assert.Equal("/health/live", container.StartupProbe.HttpGet.Path);
        foreach (var probe in new[] { container.LivenessProbe, container.ReadinessProbe, container.StartupProbe })
        {
            Assert.Equal(listens, ResolvePort(deployment, probe.HttpGet.Port));
        }
        // The image listens there too.
        Assert.Contains($"EXPOSE {listens}", File.ReadAllText(Path.Combine(Root, "Dockerfile")));
    }

    [Theory]
    [InlineData(ApiName)]
    [InlineData(WorkerName)]
    public void StartupProbe_AllowsForMigrationsAtStart(string name)
    {
        var probe = Container(Deployment(name)).StartupProbe;

        // Start-up applies migrations: 10-30 s on a small node (docs/engine.md). Allow at least twice that.
        Assert.True((probe.PeriodSeconds ?? 10) * (probe.FailureThreshold ?? 3) >= 60);
    }

    [Theory]
    [InlineData(ApiName)]
    [InlineData(WorkerName)]
    public void TerminationGracePeriod_CoversTheAppsShutdownWithAMargin(string name)
    {
        var deployment = Deployment(name);
        var (hostShutdown, options) = AppShutdown(deployment);
        var preStop = Container(deployment).Lifecycle?.PreStop?.Sleep?.Seconds ?? 0;

        // The kubelet's clock starts with preStop; after the grace period it sends SIGKILL.
        Assert.True(deployment.Spec.Template.Spec.TerminationGracePeriodSeconds >= preStop + (long)hostShutdown.TotalSeconds + GraceMarginSeconds,
            $"terminationGracePeriodSeconds {deployment.Spec.Template.Spec.TerminationGracePeriodSeconds} < preStop {preStop} s + host shutdown {hostShutdown.TotalSeconds} s + {GraceMarginSeconds} s");
        if (name == WorkerName)
        {
            // Set explicitly, and the app reads it under that name.
            Assert.Equal(int.Parse(Env(deployment, $"{WorkerOptions.Section}__{nameof(WorkerOptions.ShutdownGraceSeconds)}")!), options.ShutdownGraceSeconds);
            Assert.True(hostShutdown >= TimeSpan.FromSeconds(options.ShutdownGraceSeconds));
        }
    }

    [Theory]
    [InlineData(ApiName, WorkerName)]
    [InlineData(WorkerName, ApiName)]
    public void PodDisruptionBudget_SelectsItsDeploymentsPods(string name, string other)
    {
        var pdb = Typed<V1PodDisruptionBudget>("PodDisruptionBudget", name);

        Assert.True(Selects(pdb.Spec.Selector.MatchLabels, Deployment(name).Spec.Template.Metadata.Labels));
        Assert.False(Selects(pdb.Spec.Selector.MatchLabels, Deployment(other).Spec.Template.Metadata.Labels));
        Assert.True((pdb.Spec.MinAvailable is null) != (pdb.Spec.MaxUnavailable is null), "exactly one of minAvailable, maxUnavailable");
        // A budget that can never be met would block every drain.
        if (pdb.Spec.MinAvailable is { } min) Assert.True(int.Parse(min.Value) < Deployment(name).Spec.Replicas);
    }

    [Theory]
    [InlineData(ApiName)]
    [InlineData(WorkerName)]
    public void Pod_TakesItsInstanceIdFromItsName(string name)
    {
        var env = Container(Deployment(name)).Env;

        var podName = Assert.Single(env, e => e.Name == "POD_NAME");
        Assert.Equal("metadata.name", podName.ValueFrom.FieldRef.FieldPath);
        Assert.DoesNotContain(env, e => e.Name == "INSTANCE_ID"); // it would win over POD_NAME
    }

    [Theory]
    [InlineData(ApiName, "DATABASE_URL")]
    [InlineData(ApiName, "ADMIN_API_KEY")]
    [InlineData(WorkerName, "DATABASE_URL")]
    public void Secret_ComesFromASecretKeyRef(string name, string variable)
    {
        var secret = Typed<V1Secret>("Secret", SecretName);

        var env = Assert.Single(Container(Deployment(name)).Env, e => e.Name == variable);

        Assert.Null(env.Value);
        Assert.Equal(SecretName, env.ValueFrom.SecretKeyRef.Name);
        Assert.Equal(variable, env.ValueFrom.SecretKeyRef.Key);
        Assert.Contains(variable, secret.StringData.Keys);
    }

    [Fact]
    public void SecretExample_HoldsPlaceholdersOnly()
    {
        var secret = Typed<V1Secret>("Secret", SecretName);

        Assert.Null(secret.Data);
        Assert.All(secret.StringData.Values, value => Assert.Contains("CHANGE-ME", value));
    }

    [Theory]
    [InlineData(ApiName)]
    [InlineData(WorkerName)]
    public void Pod_RunsAsTheImagesNonRootUser(string name)
    {
        var pod = Deployment(name).Spec.Template.Spec;
        var container = Assert.Single(pod.Containers);
        var dockerfile = File.ReadAllText(Path.Combine(Root, "Dockerfile"));

        // The Dockerfile runs as the official .NET image's `app` user, APP_UID 1654.
        Assert.Contains("USER $APP_UID", dockerfile);
        Assert.Contains("1654", dockerfile);
        Assert.True(pod.SecurityContext.RunAsNonRoot);
        Assert.Equal(1654, pod.SecurityContext.RunAsUser);
        Assert.False(container.SecurityContext.AllowPrivilegeEscalation);
        Assert.Contains("ALL", container.SecurityContext.Capabilities.Drop);
    }

    [Theory]
    [InlineData(ApiName)]
    [InlineData(WorkerName)]
    public void Container_HasResourceRequestsAndLimits(string name)
    {
        var resources = Container(Deployment(name)).Resources;

        foreach (var resource in new[] { "cpu", "memory" })
        {
            var request = resources.Requests[resource].ToDecimal();
            var limit = resources.Limits[resource].ToDecimal();
            Assert.True(request > 0 && request <= limit, $"{resource}: request {request}, limit {limit}");
        }
    }

    [Fact]
    public void BothDeployments_RunTheSameImage_TheKustomizationSets()
    {
        var images = new[] { ApiName, WorkerName }.Select(n => Container(Deployment(n)).Image).Distinct().ToList();
        var kustomization = Kustomization();

        var image = Assert.Single(images);
        Assert.Contains(kustomization["images"]!.AsArray(), i => (string?)i!["name"] == image);
    }

    [Fact]
    public void ScaledObject_ScalesTheWorkerDeploymentOnQueueDepth()
    {
        var scaled = Document("ScaledObject", WorkerName)["spec"]!;
        var worker = Deployment(WorkerName);

        Assert.Equal(WorkerName, (string?)scaled["scaleTargetRef"]!["name"]);
        Assert.Equal("Deployment", (string?)scaled["scaleTargetRef"]!["kind"] ?? "Deployment");
        Assert.Equal("apps/v1", (string?)scaled["scaleTargetRef"]!["apiVersion"] ?? "apps/v1");
        // The Deployment's replicas are the floor, and min <= max (a rule between two fields: the schema cannot say it).
        var min = (int)scaled["minReplicaCount"]!;
        Assert.Equal(worker.Spec.Replicas, min);
        Assert.True(min <= (int)scaled["maxReplicaCount"]!);

        var trigger = Assert.Single(scaled["triggers"]!.AsArray())!;
        Assert.Equal("postgresql", (string?)trigger["type"]);
        Assert.Equal("AverageValue", (string?)trigger["metricType"] ?? "AverageValue");
        // One waiting job per worker slot.
        Assert.Equal(Env(worker, "WORKER_CONCURRENCY"), (string?)trigger["metadata"]!["targetQueryValue"]);
    }

    [Fact]
    public void ScaledObject_AuthenticatesWithTheAppsDatabaseUrl()
    {
        var trigger = Document("ScaledObject", WorkerName)["spec"]!["triggers"]![0]!;
        var authName = (string)trigger["authenticationRef"]!["name"]!;
        var auth = Document("TriggerAuthentication", authName)["spec"]!;
        var secret = Typed<V1Secret>("Secret", SecretName);

        Assert.Null(trigger["metadata"]!["connectionFromEnv"]);
        var reference = Assert.Single(auth["secretTargetRef"]!.AsArray())!;
        Assert.Equal("connection", (string?)reference["parameter"]);
        Assert.Equal(SecretName, (string?)reference["name"]);
        Assert.Equal("DATABASE_URL", (string?)reference["key"]);
        Assert.Contains("DATABASE_URL", secret.StringData.Keys);
    }

    [Fact]
    public void ScaledObjectQuery_CountsDueWaitingJobsInTheJobsTable()
    {
        var query = (string?)Document("ScaledObject", WorkerName)["spec"]!["triggers"]![0]!["metadata"]!["query"];
        using var db = new MonolithDbContext(new DbContextOptionsBuilder<MonolithDbContext>()
            .UseNpgsql("Host=localhost") // builds the model only; never connects
            .UseSnakeCaseNamingConvention()
            .Options);
        var jobs = db.Model.FindEntityType(typeof(Job))!;
        var table = StoreObjectIdentifier.Table(jobs.GetTableName()!, jobs.GetSchema());
        var state = jobs.FindProperty(nameof(Job.State))!.GetColumnName(table);
        var scheduledAt = jobs.FindProperty(nameof(Job.ScheduledAt))!.GetColumnName(table);
        var waiting = string.Join(",", JobStates.Waiting.Select(s => $"'{s.ToName()}'"));

        Assert.Equal($"SELECT count(*) FROM {jobs.GetTableName()} WHERE {state} IN ({waiting}) AND {scheduledAt} <= now()", query);
    }

    [Fact]
    public void Kustomization_ListsEveryManifestFile()
    {
        var listed = Kustomization()["resources"]!.AsArray().Select(r => (string)r!).ToList();
        var files = Directory.GetFiles(ManifestFolder)
            .Select(f => Path.GetFileName(f))
            .Where(f => f != "kustomization.yaml" && (f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".yml", StringComparison.Ordinal)))
            .Order(StringComparer.Ordinal)
            .ToList();

        Assert.Equal(files, listed.Order(StringComparer.Ordinal).ToList());
        Assert.Equal(listed.Count, listed.Distinct().Count());
    }

    // ---------- helpers ----------

    private static IReadOnlyList<string> ValidateText(string yaml)
    {
        try
        {
            return YamlDocuments.Load(yaml).SelectMany(Schema.Validate).ToList();
        }
        catch (Exception e) when (e is FormatException or YamlDotNet.Core.YamlException)
        {
            return [e.Message];
        }
    }

    private static IEnumerable<string> ResourceFiles() =>
        Kustomization()["resources"]!.AsArray().Select(r => (string)r!);

    private static JsonObject Kustomization() =>
        YamlDocuments.Load(File.ReadAllText(Path.Combine(ManifestFolder, "kustomization.yaml"))).Single();

    private static IEnumerable<JsonObject> AllDocuments() =>
        ResourceFiles().SelectMany(f => YamlDocuments.Load(File.ReadAllText(Path.Combine(ManifestFolder, f))));

    private static JsonObject Document(string kind, string name) =>
        Assert.Single(AllDocuments(), d => (string?)d["kind"] == kind && (string?)d["metadata"]?["name"] == name);

    private static T Typed<T>(string kind, string name) => ManifestSchema.As<T>(Document(kind, name));

    private static V1Deployment Deployment(string name) => Typed<V1Deployment>("Deployment", name);

    private static V1Container Container(V1Deployment deployment) => Assert.Single(deployment.Spec.Template.Spec.Containers);

    /// <summary>The value the container sees for a variable: its own env (literal values only) over its ConfigMaps.</summary>
    private static string? Env(V1Deployment deployment, string name) => EnvironmentOf(deployment).GetValueOrDefault(name);

    private static Dictionary<string, string?> EnvironmentOf(V1Deployment deployment)
    {
        var container = Container(deployment);
        var result = new Dictionary<string, string?>();
        foreach (var source in container.EnvFrom ?? [])
        {
            var configMap = Typed<V1ConfigMap>("ConfigMap", source.ConfigMapRef.Name);
            foreach (var (key, value) in configMap.Data) result[(source.Prefix ?? "") + key] = value;
        }
        foreach (var env in container.Env ?? [])
        {
            if (env.ValueFrom is null) result[env.Name] = env.Value;
        }
        return result;
    }

    private static int HttpPort(V1Deployment deployment) =>
        Assert.Single(Container(deployment).Ports, p => p.Name == "http").ContainerPort;

    private static int ResolvePort(V1Deployment deployment, IntOrString port) =>
        int.TryParse(port.Value, out var number) ? number
            : Assert.Single(Container(deployment).Ports, p => p.Name == port.Value).ContainerPort;

    private static bool Selects(IDictionary<string, string>? selector, IDictionary<string, string> labels) =>
        selector is { Count: > 0 } && selector.All(s => labels.TryGetValue(s.Key, out var v) && v == s.Value);

    /// <summary>
    /// The app's own shutdown budget for this pod: its configuration (env and ConfigMap, as the pod gets it) run
    /// through the real <see cref="WorkerExtensions.AddWorker"/>, which sets the host's ShutdownTimeout.
    /// </summary>
    private static (TimeSpan HostShutdown, WorkerOptions Options) AppShutdown(V1Deployment deployment)
    {
        var settings = EnvironmentOf(deployment).ToDictionary(kv => kv.Key.Replace("__", ":", StringComparison.Ordinal), kv => kv.Value);
        settings["DATABASE_URL"] = "postgres://user:password@localhost:5432/db"; // from the Secret; never connected to
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddWorker(configuration, ServiceTypes.Parse(settings["SERVICE_TYPE"]));
        using var provider = services.BuildServiceProvider();
        return (provider.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout,
            provider.GetRequiredService<IOptions<WorkerOptions>>().Value);
    }

    [GeneratedRegex(@"^https?://[^:/]+:(\d+)/?$")]
    private static partial Regex ListenPort();
}
