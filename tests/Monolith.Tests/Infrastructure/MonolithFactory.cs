using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Mvc.Testing.Handlers;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Domain.Persistence;
using Monolith.Tests.Contract;

namespace Monolith.Tests.Infrastructure;

/// <summary>
/// The whole service in-process (SERVICE_TYPE=all by default) on its own fresh PostgreSQL database: the API
/// through <see cref="WebApplicationFactory{TEntryPoint}"/>'s client, and the embedded Quartz worker running
/// jobs for real. Subclass it to change a setting (see <see cref="Settings"/>).
/// Every client it creates holds the answers of API operations to the service's own OpenAPI document
/// (<see cref="ContractCheckingHandler"/>): an answer that breaks it fails the request, and disposing the factory
/// fails while any recorded violation is left.
/// </summary>
public class MonolithFactory : WebApplicationFactory<Program>, IAsyncLifetime
{
    public const string AdminKey = "test-admin-key";

    /// <summary>The encryption key every test node uses (Secrets:Keys:test), base64 of 32 bytes.</summary>
    public const string SecretKeyId = "test";
    public const string SecretKey = "dGVzdC1rZXktdGVzdC1rZXktdGVzdC1rZXktdGVzdCE=";

    public string DatabaseUrl { get; private set; } = "";

    private readonly Lazy<Task<OpenApiContract?>> _contract;

    public MonolithFactory() => _contract = new(LoadContractAsync);

    /// <summary>Answers that broke the OpenAPI document, from any client of this factory.</summary>
    public ContractViolations ContractViolations { get; } = new();

    /// <summary>
    /// True (the default): a request whose answer breaks the OpenAPI document throws <see cref="ContractViolationException"/>.
    /// False: violations are only recorded (a fuzz test collects them all).
    /// </summary>
    protected virtual bool ThrowOnContractViolation => true;

    /// <summary>The service's OpenAPI document as this node serves it; null where it serves none (a worker node).</summary>
    public Task<OpenApiContract?> ContractAsync() => _contract.Value;

    private async Task<OpenApiContract?> LoadContractAsync()
    {
        // The factory's own client, without the contract check: it works on the in-memory server and on Kestrel (DashboardApp).
        using var client = CreateDefaultClient();
        using var response = await client.GetAsync("/swagger/v1/swagger.json");
        return response.IsSuccessStatusCode ? OpenApiContract.Parse(await response.Content.ReadAsStringAsync()) : null;
    }

    /// <summary>A client as <see cref="WebApplicationFactory{TEntryPoint}.CreateClient()"/> makes it, checking every answer against the contract.</summary>
    public new HttpClient CreateClient() => CreateClient(ClientOptions);

    /// <summary>
    /// A client as <see cref="WebApplicationFactory{TEntryPoint}.CreateClient(WebApplicationFactoryClientOptions)"/> makes it
    /// (redirects and cookies as asked), with the contract check next to the server so that it sees every single answer.
    /// </summary>
    public new HttpClient CreateClient(WebApplicationFactoryClientOptions options)
    {
        var handlers = new List<DelegatingHandler>();
        if (options.AllowAutoRedirect) handlers.Add(new RedirectHandler(options.MaxAutomaticRedirections));
        if (options.HandleCookies) handlers.Add(new CookieContainerHandler());
        handlers.Add(new ContractCheckingHandler(ContractAsync, ContractViolations, ThrowOnContractViolation));
        return CreateDefaultClient(options.BaseAddress, handlers.ToArray());
    }

    /// <summary>Settings passed to the service as configuration; override to add or change some.</summary>
    protected virtual Dictionary<string, string?> Settings => new()
    {
        ["SERVICE_TYPE"] = "all",
        ["WORKER_CONCURRENCY"] = "8",
        ["ADMIN_API_KEY"] = AdminKey,
        [$"Secrets:Keys:{SecretKeyId}"] = SecretKey,
        ["Transfers:AllowedHosts:0"] = "127.0.0.1",
        ["Worker:ShutdownGraceSeconds"] = "5",
        // Quartz registers schedulers process-wide by name: each in-process node needs its own.
        ["Worker:ClusterName"] = "test-" + Guid.NewGuid().ToString("N"),
    };

    /// <summary>Runs this node on an existing database instead of a fresh one (several nodes, one database).</summary>
    public MonolithFactory OnDatabase(string databaseUrl)
    {
        DatabaseUrl = databaseUrl;
        return this;
    }

    public async Task InitializeAsync()
    {
        if (DatabaseUrl.Length == 0) DatabaseUrl = await TestDatabase.CreateAsync(GetType().Name);
        _ = Services; // start the host now: migrations and the scheduler come up before the first test
        await WaitUntilReadyAsync();
    }

    /// <summary>Readiness includes the scheduler, which starts just after the host; wait for it.</summary>
    public async Task WaitUntilReadyAsync()
    {
        using var client = CreateClient();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            using var response = await client.GetAsync("/health/ready");
            if (response.IsSuccessStatusCode) return;
            if (DateTime.UtcNow > deadline) Assert.Fail("Not ready after 30 s: " + await response.Content.ReadAsStringAsync());
            await Task.Delay(50);
        }
    }

    async Task IAsyncLifetime.DisposeAsync() => await DisposeAsync();

    /// <summary>Stops the service, then fails if any answer broke the OpenAPI document (a test may have swallowed the exception).</summary>
    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        ContractViolations.AssertNone();
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("DATABASE_URL", DatabaseUrl);
        foreach (var (key, value) in Settings) builder.UseSetting(key, value);
    }

    /// <summary>A client acting as the admin (<c>ADMIN_API_KEY</c>).</summary>
    public HttpClient CreateAdminClient()
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", AdminKey);
        return client;
    }

    /// <summary>A fresh tenant and a client sending its API key.</summary>
    public async Task<HttpClient> CreateTenantClientAsync()
    {
        using var admin = CreateAdminClient();
        var created = await admin.PostJsonAsync<CreatedTenant>("/v1/admin/tenants", new { name = "tenant-" + Guid.NewGuid().ToString("N")[..8] });
        var client = CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", created.ApiKey.Key);
        return client;
    }

    /// <summary>A DbContext on this factory's database, to check rows.</summary>
    public MonolithDbContext CreateDbContext() =>
        Services.CreateScope().ServiceProvider.GetRequiredService<MonolithDbContext>();

    public sealed record CreatedTenant(TenantDto Tenant, ApiKeyDto ApiKey);
    public sealed record TenantDto(Guid Id, string Name);
    public sealed record ApiKeyDto(Guid Id, string Key);
}
