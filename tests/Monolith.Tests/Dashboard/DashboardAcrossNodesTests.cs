using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc.Testing;
using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Dashboard;

/// <summary>
/// Two api nodes on one database, each with a disk of its own (as with S3, where no volume is shared): the login
/// form's antiforgery token issued by one is accepted by the other, and the dashboard cookie the other issues opens the
/// dashboard on the first. The Data Protection key ring both need is in the database.
/// </summary>
public sealed class DashboardAcrossNodesTests
{
    private sealed class NodeWithOwnDisk : MonolithFactory
    {
        public string Root { get; } = Directory.CreateTempSubdirectory("monolith-own-disk-").FullName;

        protected override Dictionary<string, string?> Settings => new(base.Settings) { ["SERVICE_TYPE"] = "api", ["Storage:Root"] = Root };
    }

    [Fact]
    public async Task A_login_form_from_one_api_node_is_accepted_by_another_and_its_cookie_opens_the_first()
    {
        await using var first = new NodeWithOwnDisk();
        await first.InitializeAsync();
        await using var second = new NodeWithOwnDisk();
        second.OnDatabase(first.DatabaseUrl);
        await second.InitializeAsync();
        var noCookies = new WebApplicationFactoryClientOptions { HandleCookies = false, AllowAutoRedirect = false };
        using var toFirst = first.CreateClient(noCookies);
        using var toSecond = second.CreateClient(noCookies);

        using var form = await toFirst.GetAsync("/dashboard/login");
        var antiforgery = Cookie(form, "monolith_dashboard_csrf");
        var token = Regex.Match(await form.Content.ReadAsStringAsync(), "name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"").Groups[1].Value;
        using var post = new HttpRequestMessage(HttpMethod.Post, "/dashboard/login")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["key"] = MonolithFactory.AdminKey, ["__RequestVerificationToken"] = token }),
        };
        post.Headers.Add("Cookie", antiforgery);
        using var login = await toSecond.SendAsync(post);
        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode); // a 400 when the second node cannot read the first's token
        Assert.Equal("/dashboard", login.Headers.Location!.OriginalString);

        using var overview = new HttpRequestMessage(HttpMethod.Get, "/dashboard");
        overview.Headers.Add("Cookie", Cookie(login, "monolith_dashboard"));
        using var page = await toFirst.SendAsync(overview);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode); // a redirect to the login form when the first cannot read the second's cookie
        Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(first.Root, "*", SearchOption.AllDirectories),
            p => p.Contains("dataprotection", StringComparison.OrdinalIgnoreCase)); // no key ring on a node's disk
    }

    /// <summary>The <c>name=value</c> of the cookie this answer sets.</summary>
    private static string Cookie(HttpResponseMessage response, string name) =>
        response.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0]).Single(c => c.StartsWith(name + "=", StringComparison.Ordinal));
}
