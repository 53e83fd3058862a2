using Microsoft.AspNetCore.Hosting;
using Monolith.Tests.Features.HttpRequests;
using Monolith.Tests.Storage;

namespace Monolith.Tests.Worker.Outbound;

/// <summary>
/// The service with <c>Outbound:Proxy</c> set (every log line kept, see <see cref="HttpRequestsFactory"/>), its file
/// store in a temporary folder, and <c>localhost</c> allow-listed by name besides 127.0.0.1, so that a call to a
/// name shows what the proxy is asked for.
/// </summary>
public sealed class ProxiedFactory(string proxyAddress, string? username, string? password) : HttpRequestsFactory
{
    public string StorageRoot { get; } = Path.Combine(Path.GetTempPath(), "monolith-uploads-" + Guid.NewGuid().ToString("N"));

    protected override Dictionary<string, string?> Settings => new(base.Settings)
    {
        ["Outbound:Proxy:Address"] = proxyAddress,
        ["Outbound:Proxy:Username"] = username,
        ["Outbound:Proxy:Password"] = password,
        ["Transfers:AllowedHosts:1"] = "localhost",
        ["Storage:Root"] = StorageRoot,
        ["Logging:LogLevel:Default"] = "Debug",
    };

    /// <summary>Settings over the ones above, given before the service starts: another file store (<see cref="ProxyOnS3Fixture"/>).</summary>
    public Dictionary<string, string?> ExtraSettings { get; init; } = [];

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        foreach (var (key, value) in ExtraSettings) builder.UseSetting(key, value);
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing && Directory.Exists(StorageRoot)) Directory.Delete(StorageRoot, recursive: true);
    }
}

/// <summary>A tinyproxy asking for credentials, and the service using it with the right ones.</summary>
public class ProxyFixture : IAsyncLifetime
{
    public const string Username = "monolith";
    public const string Password = "proxy-pass-7c41e9";

    public TinyProxy Proxy { get; private set; } = null!;
    public ProxiedFactory App { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Proxy = await TinyProxy.StartAsync(Username, Password);
        App = new ProxiedFactory(Proxy.Address, Username, Password) { ExtraSettings = await StartStoreAsync() };
        await App.InitializeAsync();
    }

    /// <summary>Starts the file store the service is to use and answers its settings; none: the local store.</summary>
    protected virtual Task<Dictionary<string, string?>> StartStoreAsync() => Task.FromResult(new Dictionary<string, string?>());

    public virtual async Task DisposeAsync()
    {
        await App.DisposeAsync();
        await Proxy.DisposeAsync();
    }
}

/// <summary>The same, the file store being an <see cref="S3rver"/> of its own (pre-signed uploads need S3).</summary>
public sealed class ProxyOnS3Fixture : ProxyFixture
{
    public S3rver Server { get; private set; } = null!;

    protected override async Task<Dictionary<string, string?>> StartStoreAsync()
    {
        Server = await S3rver.StartAsync();
        return Server.ServiceSettings();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Server.DisposeAsync();
    }
}
