using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Monolith.Tests.Features.Imports;
using Monolith.Tests.Features.Queues;
using Monolith.Tests.Features.Syncs;
using Monolith.Tests.Features.Transfers;
using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Dashboard;

/// <summary>
/// What the dashboard's pages show, read as HTML over HTTP with the login cookie (no browser): on a database of this
/// class's own, so the overview's figures are this class's jobs only.
/// </summary>
public sealed class DashboardPagesTests(MonolithFactory app) : IClassFixture<MonolithFactory>
{
    [Fact]
    public async Task Overview_CountsTheLastHoursAttempts_AndListsThisNode()
    {
        var (tenant, _) = await app.CreateTenantAsync();
        var done = new List<JobDto>();
        for (var i = 0; i < 3; i++) done.Add(await tenant.SubmitJobAsync("noop", new { }));
        var failed = await tenant.SubmitJobAsync("fail", new { failTimes = 1, retryable = false });
        foreach (var job in done) await tenant.WaitForStateAsync(job.Id, "succeeded");
        await tenant.WaitForStateAsync(failed.Id, "failed");
        using var dashboard = await LoginAsync();

        var html = await dashboard.GetStringAsync("/dashboard");

        Assert.Contains("the hour: 3 succeeded, 1 failed", html);
        Assert.Matches("data-state=\"succeeded\">3<", html);
        Assert.Matches("data-state=\"failed\">1<", html);
        Assert.Contains("(this node)</td>", html);
        Assert.Contains("(<code>all</code>)", html); // what the serving node was started as (SERVICE_TYPE)
    }

    [Fact]
    public async Task Jobs_FilteredByTenantAndState_ListOnlyThose()
    {
        var (alice, aliceId) = await app.CreateTenantAsync();
        var (bob, _) = await app.CreateTenantAsync();
        var aliceDone = await alice.SubmitJobAsync("noop", new { });
        var aliceWaiting = await alice.SubmitJobAsync("noop", new { }, new { delaySeconds = 3600 });
        var bobDone = await bob.SubmitJobAsync("noop", new { });
        await alice.WaitForStateAsync(aliceDone.Id, "succeeded");
        await bob.WaitForStateAsync(bobDone.Id, "succeeded");
        using var dashboard = await LoginAsync();

        var html = await dashboard.GetStringAsync($"/dashboard/jobs?state=succeeded&tenant={aliceId}");

        Assert.Contains(aliceDone.Id.ToString(), html);
        Assert.DoesNotContain(aliceWaiting.Id.ToString(), html);
        Assert.DoesNotContain(bobDone.Id.ToString(), html);
    }

    [Fact]
    public async Task Jobs_PageByPage_ShowEveryJobOnce()
    {
        var (tenant, tenantId) = await app.CreateTenantAsync();
        var ids = new HashSet<Guid>();
        for (var i = 0; i < 60; i++) ids.Add((await tenant.SubmitJobAsync("noop", new { }, new { delaySeconds = 3600 })).Id);
        using var dashboard = await LoginAsync();

        var first = await dashboard.GetStringAsync($"/dashboard/jobs?tenant={tenantId}");
        var next = Regex.Match(first, "id=\"next\" href=\"([^\"]+)\"").Groups[1].Value.Replace("&amp;", "&");
        var second = await dashboard.GetStringAsync(next);

        var seen = JobIds(first).Concat(JobIds(second)).ToList();
        Assert.Equal(60, seen.Count);
        Assert.Equal(ids, seen.ToHashSet());
        Assert.DoesNotContain("id=\"next\"", second);
    }

    [Fact]
    public async Task Jobs_SearchById_OpensTheJobPage()
    {
        var (tenant, _) = await app.CreateTenantAsync();
        var job = await tenant.SubmitJobAsync("noop", new { }, new { delaySeconds = 3600 });
        using var dashboard = await LoginAsync();

        using var response = await dashboard.GetAsync($"/dashboard/jobs?id={job.Id}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal($"/dashboard/jobs/{job.Id}", response.RequestMessage!.RequestUri!.AbsolutePath);
        Assert.Contains("<h1>Job <code>" + job.Id + "</code></h1>", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Datasets_ShowStateAndTheJobsProgress()
    {
        var (tenant, tenantId) = await app.CreateTenantAsync();
        var job = await tenant.SubmitJobAsync("sleep", new { ms = 60_000 }, new { delaySeconds = 3600 });
        var dataset = Guid.CreateVersion7();
        await QueueTestKit.ExecuteAsync(app.DatabaseUrl, "UPDATE jobs SET progress_percent = 37 WHERE id = @id", ("id", job.Id));
        await QueueTestKit.ExecuteAsync(app.DatabaseUrl, """
            INSERT INTO datasets (id, tenant_id, country, format, file_name, storage_key, size_bytes, state, rows_inserted, rows_rejected,
                                  aggregate_rows, rows_superseded, job_id, created_at)
            VALUES (@id, @tenant, 'US', 'us_yob', 'yob2000.txt', 'datasets/x', 10, 'processing', 0, 0, 0, 0, @job, now())
            """, ("id", dataset), ("tenant", tenantId), ("job", job.Id));
        using var dashboard = await LoginAsync();

        var html = await dashboard.GetStringAsync("/dashboard/datasets");

        var row = Regex.Match(html, $"<tr>\\s*<td><code>{dataset}</code>.*?</tr>", RegexOptions.Singleline).Value;
        Assert.Contains("processing", row);
        Assert.Contains("width: 37%", row);
        Assert.Contains($"/dashboard/jobs/{job.Id}", row);
    }

    private Task<HttpClient> LoginAsync() => DashboardLogin.LoginAsync(app);

    private static IEnumerable<Guid> JobIds(string html) =>
        Regex.Matches(html, "<a href=\"/dashboard/jobs/([0-9a-f-]{36})\">").Select(m => Guid.Parse(m.Groups[1].Value));
}

/// <summary>
/// The transfers and syncs pages, on a database of their own (their jobs would change the overview's figures above)
/// with a file store and a directory root (<see cref="TransfersFactory"/>): real transfers and syncs run by the
/// embedded worker against a source API on 127.0.0.1, listed as the API reports them, their header values never shown.
/// </summary>
public sealed class DashboardTransfersAndSyncsPagesTests(TransfersFactory app) : IClassFixture<TransfersFactory>, IAsyncLifetime
{
    private SourceApi _source = null!;

    public async Task InitializeAsync() => _source = await SourceApi.StartAsync(count: 25, pageSize: 10);

    public async Task DisposeAsync() => await _source.DisposeAsync();

    [Fact]
    public async Task Transfers_ListEachWithTheApisState_BytesAndSha_AndNoHeaderValue()
    {
        var (tenant, tenantId) = await app.CreateTenantAsync();
        var secret = "Bearer transfer-secret-" + Guid.NewGuid().ToString("N");
        var content = System.Security.Cryptography.RandomNumberGenerator.GetBytes(300_000);
        var upload = await tenant.UploadBytesAsync(content);
        var path = $"dash-{Guid.NewGuid():N}/report.pdf";
        var fromUpload = await tenant.CreateTransferAsync(new { source = new { type = "upload", uploadId = upload.Id }, destination = new { type = "directory", path } });
        var fromUrl = await tenant.CreateTransferAsync(new
        {
            source = new { type = "url", url = $"{_source.BaseUrl}/page?page=1&token=query-secret", headers = new Dictionary<string, string> { ["Authorization"] = secret } },
            destination = new { type = "directory", path = $"dash-{Guid.NewGuid():N}/page.json" },
        });
        var missing = await tenant.CreateTransferAsync(new
        {
            source = new { type = "url", url = $"{_source.BaseUrl}/no-such-document" },
            destination = new { type = "directory", path = $"dash-{Guid.NewGuid():N}/missing.json" },
        });
        var uploaded = await TransferClientExtensions.WaitUntilFinishedAsync(tenant, fromUpload.Id);
        var fetched = await TransferClientExtensions.WaitUntilFinishedAsync(tenant, fromUrl.Id);
        var failed = await TransferClientExtensions.WaitUntilFinishedAsync(tenant, missing.Id);
        Assert.Equal(("completed", "completed", "failed"), (uploaded.State, fetched.State, failed.State));
        using var dashboard = await DashboardLogin.LoginAsync(app);

        var html = await dashboard.GetStringAsync("/dashboard/transfers");

        var row = Row(html, fromUpload.Id);
        Assert.Contains("class=\"state-completed\">completed<", row);
        Assert.Contains($"upload {upload.Id} → directory {path}", row);
        Assert.Contains($"{content.Length:N0} / {content.Length:N0}", row);
        Assert.Contains(uploaded.Sha256!, row);
        Assert.Contains("width: 100%", row);
        Assert.Contains($"/dashboard/jobs/{fromUpload.JobId}", row);
        Assert.Contains(tenantId.ToString()[..8], row);
        var urlRow = Row(html, fromUrl.Id);
        Assert.Contains("class=\"state-completed\">completed<", urlRow);
        Assert.Contains($"url {new Uri(_source.BaseUrl).Authority}/page → directory", urlRow);
        Assert.Contains(fetched.Sha256!, urlRow);
        var failedRow = Row(html, missing.Id);
        Assert.Contains("class=\"state-failed\">failed: ", failedRow);
        Assert.Contains(System.Net.WebUtility.HtmlEncode(failed.Error!), failedRow);
        Assert.DoesNotContain("transfer-secret", html);
        Assert.DoesNotContain("query-secret", html);
        Assert.Contains(_source.Requests, r => r.Authorization == secret); // the header was sent, so it was there to leak
    }

    [Fact]
    public async Task Syncs_ListEachWithTheApisState_PagesAndRecords_AndNoHeaderValue()
    {
        var (tenant, _) = await app.CreateTenantAsync();
        var secret = "Bearer sync-secret-" + Guid.NewGuid().ToString("N");
        var snapshot = "dash-" + Guid.NewGuid().ToString("N")[..8];
        var created = await tenant.CreateSyncAsync(SyncTestKit.Body(_source, "page", snapshot,
            extraSource: new { headers = new Dictionary<string, string> { ["Authorization"] = secret } }));
        var sync = await SyncTestKit.WaitUntilFinishedAsync(tenant, created.Id);
        Assert.Equal("completed", sync.State);
        using var dashboard = await DashboardLogin.LoginAsync(app);

        var html = await dashboard.GetStringAsync("/dashboard/syncs");

        var row = Row(html, created.Id);
        Assert.Contains("class=\"state-completed\">completed<", row);
        Assert.Contains($"<td>{snapshot}</td>", row);
        Assert.Contains($"<td class=\"n\">{_source.Pages} / {_source.Pages}</td>", row);
        Assert.Contains($"<td class=\"n\">{_source.Count} / {_source.Count}</td>", row);
        Assert.Contains("width: 100%", row);
        Assert.Contains($"/dashboard/jobs/{created.JobId}", row);
        Assert.DoesNotContain("sync-secret", html);
        Assert.Contains(_source.Requests, r => r.Authorization == secret);
    }

    [Fact]
    public async Task Transfers_CancelAndRetry_FromThePage_AreWhatTheApiSays()
    {
        var (tenant, _) = await app.CreateTenantAsync();
        _source.Delay = TimeSpan.FromSeconds(60); // the source answers late: the transfer stays running
        var created = await tenant.CreateTransferAsync(new
        {
            source = new { type = "url", url = $"{_source.BaseUrl}/page?page=1" },
            destination = new { type = "directory", path = $"dash-{Guid.NewGuid():N}/slow.json" },
        });
        await WaitForTransferAsync(tenant, created.Id, "running");
        using var dashboard = await DashboardLogin.LoginAsync(app);

        var afterCancel = await PostRowActionAsync(dashboard, "/dashboard/transfers", created.Id, "Cancel");

        Assert.Contains($"Transfer {created.Id}: Cancel requested.", afterCancel);
        var cancelled = await TransferClientExtensions.WaitUntilFinishedAsync(tenant, created.Id);
        Assert.Equal(("cancelled", "cancelled"), (cancelled.State, cancelled.Job!.State));
        Assert.Contains("class=\"state-cancelled\">cancelled", Row(await dashboard.GetStringAsync("/dashboard/transfers"), created.Id));

        _source.Delay = TimeSpan.Zero;
        var afterRetry = await PostRowActionAsync(dashboard, "/dashboard/transfers", created.Id, "Retry");

        Assert.Contains($"Transfer {created.Id}: Retried: a new run starts.", afterRetry);
        var completed = await TransferClientExtensions.WaitUntilFinishedAsync(tenant, created.Id);
        Assert.Equal(("completed", "succeeded"), (completed.State, completed.Job!.State));
        Assert.DoesNotContain("class=\"retry\"", Row(await dashboard.GetStringAsync("/dashboard/transfers"), created.Id));
    }

    [Fact]
    public async Task Syncs_CancelAndRetry_FromThePage_AreWhatTheApiSays()
    {
        var (tenant, _) = await app.CreateTenantAsync();
        _source.Delay = TimeSpan.FromSeconds(5); // three slow pages: time to cancel between them
        var created = await tenant.CreateSyncAsync(SyncTestKit.Body(_source, "page", "dash-" + Guid.NewGuid().ToString("N")[..8]));
        await tenant.WaitForSyncAsync(created.Id, s => s.State == "running", "running");
        using var dashboard = await DashboardLogin.LoginAsync(app);

        var afterCancel = await PostRowActionAsync(dashboard, "/dashboard/syncs", created.Id, "Cancel");

        Assert.Contains($"Sync {created.Id}: Cancel requested", afterCancel);
        var cancelled = await SyncTestKit.WaitUntilFinishedAsync(tenant, created.Id);
        Assert.Equal(("cancelled", "cancelled"), (cancelled.State, cancelled.Job!.State));
        Assert.True(cancelled.PagesFetched < _source.Pages, $"{cancelled.PagesFetched} pages were fetched before the cancel took.");

        _source.Delay = TimeSpan.Zero;
        var afterRetry = await PostRowActionAsync(dashboard, "/dashboard/syncs", created.Id, "Retry");

        Assert.Contains($"Sync {created.Id}: Retried", afterRetry);
        var completed = await SyncTestKit.WaitUntilFinishedAsync(tenant, created.Id);
        Assert.Equal(("completed", _source.Count), (completed.State, (int)completed.RecordsUpserted));
        Assert.Contains("class=\"state-completed\">completed<", Row(await dashboard.GetStringAsync("/dashboard/syncs"), created.Id));
    }

    [Fact]
    public async Task Imports_ListEachWithTheApisState_RowsAndBadRows_AndReprocessFromThePage()
    {
        var (tenant, _) = await app.CreateTenantAsync();
        var path = Path.Combine(Path.GetTempPath(), $"dash-{Guid.NewGuid():N}.csv");
        await File.WriteAllTextAsync(path, "id,name\n1,a\n2,b\n2,again\n3,c\n");
        try
        {
            var created = await tenant.ImportAcceptedAsync(path, "dash-import", "id", new() { ["maxBadRowShare"] = "0.5" });
            var import = await tenant.WaitForImportAsync(created.Id);
            Assert.Equal("completed", import.State);
            using var dashboard = await DashboardLogin.LoginAsync(app);

            var row = Row(await dashboard.GetStringAsync("/dashboard/imports"), created.Id);
            Assert.Contains("class=\"state-completed\">completed<", row);
            Assert.Contains("<td>dash-import</td>", row);
            Assert.Contains("<td class=\"n\">4</td>", row);             // rows read
            Assert.Contains("<td class=\"n\">3</td>", row);             // records upserted
            Assert.Contains("<td class=\"n\">1 (first on line 4)</td>", row);
            Assert.DoesNotContain("class=\"retry\"", row);

            var afterReprocess = await PostRowActionAsync(dashboard, "/dashboard/imports", created.Id, "Reprocess");

            Assert.Contains($"Import {created.Id}: Reprocessing", afterReprocess);
            var again = await tenant.WaitForImportAsync(created.Id);
            Assert.Equal(("completed", 3L), (again.State, again.RecordsUpserted));
            Assert.NotEqual(import.Job!.Id, again.Job!.Id);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>
    /// A tenant's source may say anything about its total. While the sync runs (its second page held back), the API
    /// and the admin's page both answer, with no ETA rather than an absurd or overflowing one.
    /// </summary>
    [Theory]
    [InlineData("9000000000000000000", 9000000000000000000L)] // fits a long: an ETA of ~10^17 s once overflowed the page's TimeSpan
    [InlineData("99999999999999999999999", null)]            // past a long: not a total
    [InlineData("-5", -5L)]
    [InlineData("0", 0L)]
    [InlineData("3", 3L)]                                     // fewer than the 10 records of the first page
    public async Task Syncs_WithAbsurdTotalsFromTheSource_AnswerOnThePageAndInTheApi_WithoutAnEta(string total, long? stored)
    {
        var (tenant, _) = await app.CreateTenantAsync();
        await using var source = await LoopbackServer.StartAsync();
        var secondPage = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        source.Handle("/records", async http =>
        {
            var first = !http.Request.Query.ContainsKey("cursor");
            if (first) await Task.Delay(100); // the first page takes a while: the pace so far is not zero
            else await secondPage.Task.WaitAsync(TimeSpan.FromSeconds(60));
            var items = first ? string.Join(',', Enumerable.Range(1, 10).Select(n => $"{{\"id\":\"a{n}\"}}")) : "";
            http.Response.ContentType = "application/json";
            await http.Response.WriteAsync($"{{\"items\":[{items}],\"total\":{total},\"next\":{(first ? "\"p2\"" : "null")}}}");
        });
        try
        {
            var created = await tenant.CreateSyncAsync(new
            {
                snapshot = "absurd-" + Guid.NewGuid().ToString("N")[..8],
                source = new
                {
                    url = source.Url("/records"),
                    pagination = new { type = "cursor", cursorParam = "cursor", nextCursorPath = "next", totalPath = "total" },
                    itemsPath = "items",
                    idPath = "id",
                },
            });
            var running = await tenant.WaitForSyncAsync(created.Id, s => s.State == "running" && s.PagesFetched == 1, "running with one page");

            Assert.Equal(stored, running.TotalRecords);
            Assert.Null(running.EtaSeconds);
            Assert.True(running.ProgressPercent is null or >= 0 and <= 100, $"progressPercent {running.ProgressPercent}");
            using var dashboard = await DashboardLogin.LoginAsync(app);
            using var page = await dashboard.GetAsync("/dashboard/syncs");
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            var row = Row(await page.Content.ReadAsStringAsync(), created.Id);
            Assert.Contains("class=\"state-running\">running<", row);
            Assert.Contains($"<td class=\"n\">10{(stored is { } t ? $" / {t:N0}" : "")}</td>", row);
        }
        finally
        {
            secondPage.TrySetResult();
        }
    }

    [Theory]
    [InlineData("/dashboard/transfers")]
    [InlineData("/dashboard/syncs")]
    [InlineData("/dashboard/imports")]
    public async Task LoggedOut_IsSentToTheLoginForm(string page)
    {
        using var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        using var response = await client.GetAsync(page);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/dashboard/login", response.Headers.Location!.AbsolutePath);
        Assert.Contains("ReturnUrl=" + Uri.EscapeDataString(page), response.Headers.Location.Query, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Navigation_LinksTheNewPages()
    {
        using var dashboard = await DashboardLogin.LoginAsync(app);

        var html = await dashboard.GetStringAsync("/dashboard/syncs");

        Assert.Contains("<a href=\"/dashboard/transfers\" class=\"\">Transfers</a>", html);
        Assert.Contains("<a href=\"/dashboard/syncs\" class=\"current\">Syncs</a>", html);
        Assert.Contains("<a href=\"/dashboard/imports\" class=\"\">Imports</a>", html);
    }

    /// <summary>Posts a row's action form (Cancel, Retry, Pause...) as the browser would (its action and antiforgery token); the page it lands on.</summary>
    internal static async Task<string> PostRowActionAsync(HttpClient dashboard, string page, Guid id, string handler)
    {
        var row = Row(await dashboard.GetStringAsync(page), id);
        var form = Regex.Match(row, $"<form[^>]*action=\"([^\"]*handler={handler}[^\"]*)\"[^>]*>.*?name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"",
            RegexOptions.Singleline);
        Assert.True(form.Success, $"No {handler} form in the row of {id}: {row}");
        using var response = await dashboard.PostAsync(System.Net.WebUtility.HtmlDecode(form.Groups[1].Value),
            new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = form.Groups[2].Value }));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(page, response.RequestMessage!.RequestUri!.AbsolutePath);
        return await response.Content.ReadAsStringAsync();
    }

    private static async Task WaitForTransferAsync(HttpClient tenant, Guid id, string state)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while ((await tenant.GetTransferAsync(id)).State != state)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"Transfer {id} did not reach {state} within 60 s.");
            await Task.Delay(25);
        }
    }

    internal static string Row(string html, Guid id)
    {
        var row = Regex.Match(html, $"<tr>\\s*<td><code>{id}</code>.*?</tr>", RegexOptions.Singleline).Value;
        Assert.False(row.Length == 0, $"No row for {id}.");
        return row;
    }
}

/// <summary>Logging in to the dashboard over HTTP, as the login form does.</summary>
public static class DashboardLogin
{
    /// <summary>A client holding the dashboard cookie: the login form's antiforgery token and the admin key posted.</summary>
    public static async Task<HttpClient> LoginAsync(MonolithFactory app)
    {
        var client = app.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = true, AllowAutoRedirect = true });
        var form = await client.GetStringAsync("/dashboard/login");
        var token = Regex.Match(form, "name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"").Groups[1].Value;
        using var login = await client.PostAsync("/dashboard/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["key"] = MonolithFactory.AdminKey,
            ["__RequestVerificationToken"] = token,
        }));
        Assert.Equal("/dashboard", login.RequestMessage!.RequestUri!.AbsolutePath);
        return client;
    }
}
