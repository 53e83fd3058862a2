using System.Net;
using Microsoft.AspNetCore.Mvc.Testing;
using Monolith.Tests.Features.Transfers;
using Monolith.Tests.Storage;

namespace Monolith.Tests.Dashboard;

/// <summary>
/// Two api nodes on one S3 bucket and one database, no shared disk: the dashboard's Data Protection keys are rows of
/// <c>data_protection_keys</c>, so the cookie one node issued is read by the other. Before, with S3 each node kept a
/// key ring of its own in its home folder, and a login held on one node only.
/// </summary>
public sealed class DashboardKeyRingOnS3Tests
{
    [Fact]
    public async Task LoginOnOneApiNode_IsHonouredByAnother_WithTheKeyRingInTheBucket()
    {
        await using var s3 = await S3rver.StartAsync();
        await using var first = new TransfersFactory { ExtraSettings = new(s3.ServiceSettings()) };
        await using var second = new TransfersFactory { ExtraSettings = new(s3.ServiceSettings()) };
        await first.InitializeAsync();
        second.OnDatabase(first.DatabaseUrl);
        await second.InitializeAsync();

        using var loggedIn = await DashboardLogin.LoginAsync(first);
        using var home = await loggedIn.GetAsync("/dashboard");
        Assert.Equal(HttpStatusCode.OK, home.StatusCode);
        var sent = home.RequestMessage!.Headers.TryGetValues("Cookie", out var values) ? string.Join("; ", values) : null;

        await using (var db = new Npgsql.NpgsqlConnection(Monolith.Domain.Persistence.DatabaseUrl.ToConnectionString(first.DatabaseUrl)))
        {
            await db.OpenAsync();
            await using var keys = new Npgsql.NpgsqlCommand("SELECT xml FROM data_protection_keys", db);
            await using var reader = await keys.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync(), "No Data Protection key in the database.");
            Assert.Contains("<key id=", reader.GetString(0));
        }
        Assert.DoesNotContain(Directory.GetFiles(s3.DataDirectory, "*", SearchOption.AllDirectories), f => f.Contains("dataprotection", StringComparison.OrdinalIgnoreCase));
        Assert.False(Directory.Exists(Path.Combine(first.StorageRoot, ".dataprotection-keys")));

        using var other = second.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        using var request = new HttpRequestMessage(HttpMethod.Get, "/dashboard");
        Assert.NotNull(sent);
        request.Headers.Add("Cookie", sent);
        using var answer = await other.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode); // not a redirect to the login form

        using var stranger = new HttpRequestMessage(HttpMethod.Get, "/dashboard");
        using var refused = await other.SendAsync(stranger);
        Assert.Equal(HttpStatusCode.Redirect, refused.StatusCode);
    }
}
