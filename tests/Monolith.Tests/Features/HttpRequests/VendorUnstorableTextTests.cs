using System.Text.Json;
using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Features.HttpRequests;

/// <summary>
/// A vendor's answer holds text PostgreSQL cannot store (a NUL in the body, in the status line): the job's outcome is
/// still recorded, with each such character replaced by U+FFFD and a note saying so, and the node goes on recording
/// every other job's outcome.
/// </summary>
public sealed class VendorUnstorableTextTests(HttpRequestsFactory app) : IClassFixture<HttpRequestsFactory>
{
    [Fact]
    public async Task VendorBodyWithNul_JobSucceeds_WithTheCharacterReplacedAndANote()
    {
        await using var vendor = RawVendor.Start();
        // A raw NUL byte inside a JSON string, beside an escaped one: the escape is six characters of text and is kept.
        vendor.Answer("/verify", RawVendor.Response("200 OK", "{\"name\":\"Ada\0Lovelace\",\"escaped\":\"x\\u0000y\"}"));
        var client = await app.CreateTenantClientAsync();

        var job = await client.SubmitJobAsync("http_request", new { method = "GET", url = vendor.Url("/verify") });
        var done = await client.WaitForStateAsync(job.Id, "succeeded");

        var body = done.Result!.Value.GetProperty("body").GetString()!;
        Assert.Equal("{\"name\":\"Ada\uFFFDLovelace\",\"escaped\":\"x\\u0000y\"}", body);
        Assert.DoesNotContain('\0', body);
        var attempt = Assert.Single(done.Attempts);
        Assert.Equal("succeeded", attempt.Outcome);
        Assert.Contains("U+FFFD", attempt.Error, StringComparison.Ordinal);
        Assert.Equal(attempt.Error, done.LastError);
    }

    [Fact]
    public async Task NulInTheStatusLine_TheJobIsRecorded_AndLaterJobsStillFinish()
    {
        await using var vendor = RawVendor.Start();
        vendor.Answer("/failing", RawVendor.Response("500 Bad\0Vendor"));
        vendor.Answer("/fine", RawVendor.Response("200 O\0K", "{\"ok\":true}"));
        var client = await app.CreateTenantClientAsync();

        var failing = await client.SubmitJobAsync("http_request", new { method = "GET", url = vendor.Url("/failing") },
            new { maxAttempts = 2, backoffSeconds = 0 });
        var fine = await client.SubmitJobAsync("http_request", new { method = "POST", url = vendor.Url("/fine"), body = new { a = 1 } },
            new { maxAttempts = 1 });

        // .NET refuses a status line with a NUL (its message quotes the phrase, NUL and all): a network-level error,
        // retried like any other, then the job fails with that message made storable.
        var failed = await client.WaitForStateAsync(failing.Id, "failed");
        Assert.Equal(2, failed.Attempts.Count);
        Assert.All(failed.Attempts, a =>
        {
            Assert.Equal("failed", a.Outcome);
            Assert.Contains("Bad\uFFFDVendor", a.Error, StringComparison.Ordinal);
            Assert.DoesNotContain('\0', a.Error!);
        });
        var other = await client.WaitForStateAsync(fine.Id, "failed");
        Assert.Contains("O\uFFFDK", other.LastError, StringComparison.Ordinal);

        // The node still records outcomes: a job submitted afterwards finishes.
        var after = await client.SubmitJobAsync("noop", new { });
        await client.WaitForStateAsync(after.Id, "succeeded");
        Assert.Equal(["/failing", "/failing", "/fine"], vendor.Paths.Order(StringComparer.Ordinal));
    }
}
