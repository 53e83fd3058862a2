using Monolith.Tests.Features.HttpRequests;

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

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing && Directory.Exists(StorageRoot)) Directory.Delete(StorageRoot, recursive: true);
    }
}

/// <summary>A tinyproxy asking for credentials, and the service using it with the right ones.</summary>
public sealed class ProxyFixture : IAsyncLifetime
{
    public const string Username = "monolith";
    public const string Password = "proxy-pass-7c41e9";

    public TinyProxy Proxy { get; private set; } = null!;
    public ProxiedFactory App { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Proxy = await TinyProxy.StartAsync(Username, Password);
        App = new ProxiedFactory(Proxy.Address, Username, Password);
        await App.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await App.DisposeAsync();
        await Proxy.DisposeAsync();
    }
}
