using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Dashboard;

/// <summary>
/// The whole service on a real Kestrel port on 127.0.0.1 (a browser needs a socket, not the in-memory test server),
/// and one headless Chromium. Each test opens its own browser context: its own cookies, as a new visitor.
/// </summary>
public sealed class DashboardApp : MonolithFactory, IAsyncLifetime
{
    private IPlaywright? playwright;

    public DashboardApp() => UseKestrel(o => o.Listen(IPAddress.Loopback, 0));

    public IBrowser Browser { get; private set; } = null!;

    /// <summary>Where Kestrel listens, e.g. http://127.0.0.1:41234.</summary>
    public string BaseUrl => Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

    async Task IAsyncLifetime.InitializeAsync()
    {
        await InitializeAsync();
        await Chromium.EnsureInstalledAsync();
        playwright = await Playwright.CreateAsync();
        Browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium.ExecutablePath,
            Headless = true,
            Args = Chromium.Args,
        });
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        if (Browser is not null) await Browser.CloseAsync();
        playwright?.Dispose();
        await DisposeAsync();
    }

    /// <summary>A new visitor: a fresh context (no cookies) and a page in it.</summary>
    public async Task<IPage> NewPageAsync()
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = BaseUrl });
        context.SetDefaultTimeout(30_000); // a first page (Razor, JIT, a cold browser) on 2 loaded cores can take over 15 s
        return await context.NewPageAsync();
    }

    /// <summary>A visitor logged in with the admin key, on the overview.</summary>
    public async Task<IPage> LoggedInPageAsync()
    {
        var page = await NewPageAsync();
        await page.GotoAsync("/dashboard/login");
        await page.FillAsync("#key", AdminKey);
        await page.ClickAsync("#login");
        await page.WaitForURLAsync(url => new Uri(url).AbsolutePath == "/dashboard");
        return page;
    }
}
