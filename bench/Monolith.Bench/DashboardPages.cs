using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using Npgsql;

namespace Monolith.Bench;

/// <summary>
/// Scenario 8 (issue 7): the dashboard's pages with 1,000,000 jobs in the table. Loads the jobs (and one attempt per
/// finished job) with SQL, logs in as an operator would (the login form and its antiforgery token), then times each
/// page and reads the plans of the statements each page ran, logged by PostgreSQL's auto_explain: no page may scan
/// <c>jobs</c> or <c>job_attempts</c> sequentially.
/// </summary>
public sealed partial class Bench
{
    private const int DashboardJobs = 1_000_000;
    private const int DashboardTenants = 100;
    private const int TimedRequests = 20;

    private async Task DashboardPagesAsync()
    {
        var database = await db.CreateDatabaseAsync("bench_s8_dashboard");
        // Every statement's plan goes to the server log (plans only, no ANALYZE), for sessions opened from now on.
        await db.RowsAsync("postgres", $"""ALTER DATABASE "{database}" SET session_preload_libraries = 'auto_explain'""");
        await db.RowsAsync("postgres", $"""ALTER DATABASE "{database}" SET auto_explain.log_min_duration = 0""");
        var dataDirectory = await db.ScalarTextAsync("postgres", "SHOW data_directory");
        var serverLog = Path.Combine(Path.GetDirectoryName(dataDirectory)!, "postgres.log"); // scripts/postgres.sh's layout

        await using var api = await StartAsync(database, "api", "s8-api");
        var clock = Stopwatch.StartNew();
        await LoadDashboardJobsAsync(database);
        Line($"loaded {DashboardJobs:N0} jobs of {DashboardTenants} tenants (finished over the last 10 hours, so about 100,000 in the last hour; " +
             $"1 % failed, 1 % cancelled, 1,000 live), one attempt per finished job, 200 datasets, then VACUUM ANALYZE: {clock.Elapsed.TotalSeconds:F0} s");

        using var http = await LoggedInClientAsync(api.BaseUrl);
        var tenant = TenantId(42);
        var job = (Guid)(await db.RowsAsync(database, "SELECT id FROM jobs WHERE state = 'failed' ORDER BY id DESC LIMIT 1"))[0][0]!;
        var middle = (Guid)(await db.RowsAsync(database, "SELECT id FROM jobs ORDER BY id OFFSET 500000 LIMIT 1"))[0][0]!;
        (string Name, string Path)[] pages =
        [
            ("overview", "/dashboard"),
            ("jobs, unfiltered", "/dashboard/jobs"),
            ("jobs, state=failed", "/dashboard/jobs?state=failed"),
            ("jobs, state=running", "/dashboard/jobs?state=running"),
            ("jobs, state=queued", "/dashboard/jobs?state=queued"),
            ("jobs, type=fail", "/dashboard/jobs?type=fail"),
            ("jobs, type=reprocess_dataset (none)", "/dashboard/jobs?type=reprocess_dataset"),
            ("jobs, queue=low", "/dashboard/jobs?queue=low"),
            ("jobs, tenant", $"/dashboard/jobs?tenant={tenant}"),
            ("jobs, state=failed&type=fail", "/dashboard/jobs?state=failed&type=fail"),
            ("jobs, state=cancelled&type=fail (none)", "/dashboard/jobs?state=cancelled&type=fail"),
            ("jobs, state=failed&tenant", $"/dashboard/jobs?state=failed&tenant={tenant}"),
            ("jobs, a page in the middle", $"/dashboard/jobs?after={middle}"),
            ("job page", $"/dashboard/jobs/{job}"),
            ("job progress JSON", $"/dashboard/api/jobs/{job}"),
            ("datasets", "/dashboard/datasets"),
        ];

        Line($"each page: 3 requests to warm up, then {TimedRequests} timed one after another (HttpClient on the same machine, logged in with the cookie); " +
             "plans from auto_explain (every statement the page ran; its logging is included in the times)");
        _body.AppendLine().AppendLine("| page | median ms | p95 ms | max ms | statements | seq scans of jobs / job_attempts |").AppendLine("|---|---|---|---|---|---|");
        var plansDir = Path.Combine(logDir, "dashboard-plans");
        Directory.CreateDirectory(plansDir);
        var seqScans = 0;
        foreach (var (name, path) in pages)
        {
            for (var i = 0; i < 3; i++) await GetPageAsync(http, path);
            var logStart = new FileInfo(serverLog).Length;
            var times = new List<double>();
            for (var i = 0; i < TimedRequests; i++)
            {
                var request = Stopwatch.StartNew();
                await GetPageAsync(http, path);
                times.Add(request.Elapsed.TotalMilliseconds);
            }
            await Task.Delay(200);
            var plans = ReadFrom(serverLog, logStart);
            await File.WriteAllTextAsync(Path.Combine(plansDir, Regex.Replace(name, "[^a-z0-9]+", "-") + ".txt"), plans);
            var statements = Regex.Matches(plans, @"duration: [0-9.]+ ms\s+plan:").Count / TimedRequests;
            var scans = Regex.Matches(plans, @"Seq Scan on (jobs|job_attempts)\b").Select(m => m.Groups[1].Value).Distinct().ToList();
            if (scans.Count > 0) seqScans++;
            times.Sort();
            _body.AppendLine($"| {name} | {times[times.Count / 2]:F1} | {times[(int)Math.Ceiling(times.Count * 0.95) - 1]:F1} | {times[^1]:F1} | {statements} | {(scans.Count == 0 ? "none" : "**" + string.Join(", ", scans) + "**")} |");
            Console.WriteLine($"   {name}: median {times[times.Count / 2]:F1} ms, max {times[^1]:F1} ms, {statements} statements, seq scans: {(scans.Count == 0 ? "none" : string.Join(", ", scans))}");
        }
        _body.AppendLine();
        Result(seqScans == 0
            ? $"no dashboard page scanned jobs or job_attempts sequentially at {DashboardJobs:N0} jobs (plans: bench/logs/<run>/dashboard-plans/)"
            : $"{seqScans} page(s) scanned jobs or job_attempts sequentially (see the table)");
    }

    private static Guid TenantId(int n) => Guid.Parse($"00000000-0000-4000-8000-{n:x12}");

    private async Task LoadDashboardJobsAsync(string database)
    {
        await using var connection = new NpgsqlConnection(db.ConnectionString(database));
        await connection.OpenAsync();
        async Task Run(string sql)
        {
            await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 1800 };
            command.Parameters.AddWithValue("n", DashboardJobs);
            command.Parameters.AddWithValue("tenants", DashboardTenants);
            await command.ExecuteNonQueryAsync();
        }
        await Run("""
            INSERT INTO tenants (id, name, created_at)
            SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid, 'bench-' || g, now() FROM generate_series(1, @tenants) AS g
            """);
        // Ids are UUIDv7 of the creation time, as the service makes them. The newest 1,000 are live: 300 scheduled
        // for later, 600 queued, 100 running; of the rest, 1 % failed, 1 % cancelled, 98 % succeeded.
        await Run("""
            INSERT INTO jobs (id, tenant_id, type, queue, priority, state, payload, attempt, max_attempts, backoff_seconds,
                              created_at, scheduled_at, started_at, finished_at, progress_percent, node, last_error)
            SELECT (lpad(to_hex((extract(epoch FROM t.at) * 1000)::bigint), 12, '0') || '7000' || '8' || lpad(to_hex(g), 15, '0'))::uuid,
                   ('00000000-0000-4000-8000-' || lpad(to_hex(1 + (g / 7) % @tenants), 12, '0'))::uuid,
                   CASE g % 10 WHEN 9 THEN 'fail' WHEN 6 THEN 'sleep' WHEN 7 THEN 'sleep' WHEN 8 THEN 'parse_dataset' ELSE 'noop' END,
                   (ARRAY['critical', 'default', 'low'])[1 + g % 3], 0, s.state, '{}', 1, 3, 1,
                   t.at, CASE s.state WHEN 'scheduled' THEN now() + interval '1 hour' ELSE t.at END,
                   CASE WHEN s.state IN ('scheduled', 'queued') THEN NULL ELSE t.at END,
                   CASE WHEN s.state IN ('succeeded', 'failed', 'cancelled') THEN t.at + interval '100 ms' END,
                   CASE s.state WHEN 'running' THEN 50 END,
                   CASE s.state WHEN 'running' THEN 'bench-node-' || g % 4 END,
                   CASE s.state WHEN 'failed' THEN 'fail job: attempt 1 of the 1 meant to fail' END
            FROM generate_series(1, @n) AS g
            CROSS JOIN LATERAL (SELECT now() - interval '10 hours' + (g * 36000.0 / @n) * interval '1 second' AS at) AS t
            CROSS JOIN LATERAL (SELECT CASE
                WHEN g > @n - 300 THEN 'scheduled' WHEN g > @n - 900 THEN 'queued' WHEN g > @n - 1000 THEN 'running'
                WHEN g % 100 IN (0, 9) THEN 'failed' WHEN g % 100 = 1 THEN 'cancelled' ELSE 'succeeded' END AS state) AS s
            """);
        await Run("""
            INSERT INTO job_attempts (job_id, attempt, node, started_at, finished_at, outcome, error)
            SELECT id, 1, 'bench-node', started_at, finished_at, state, last_error FROM jobs WHERE finished_at IS NOT NULL
            """);
        await Run("""
            INSERT INTO datasets (id, tenant_id, country, format, file_name, storage_key, size_bytes, state, rows_inserted, rows_rejected,
                                  aggregate_rows, rows_superseded, job_id, created_at, started_at, finished_at)
            SELECT id, tenant_id, 'US', 'us_yob', 'yob2000.txt', 'datasets/' || id, 1000000,
                   CASE state WHEN 'succeeded' THEN 'completed' WHEN 'failed' THEN 'failed' ELSE 'processing' END,
                   CASE state WHEN 'succeeded' THEN 30000 ELSE 0 END, 0, 0, 0, id, created_at, started_at, finished_at
            FROM jobs WHERE type = 'parse_dataset' ORDER BY id DESC LIMIT 200
            """);
        await Run("VACUUM ANALYZE jobs");
        await Run("VACUUM ANALYZE job_attempts");
        await Run("VACUUM ANALYZE datasets");
    }

    /// <summary>An operator's session: the login form's antiforgery token, the admin key posted, the cookie kept.</summary>
    private static async Task<HttpClient> LoggedInClientAsync(string baseUrl)
    {
        var http = new HttpClient(new SocketsHttpHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false })
        {
            BaseAddress = new Uri(baseUrl),
            Timeout = TimeSpan.FromSeconds(60),
        };
        var form = await http.GetStringAsync("/dashboard/login");
        var token = Regex.Match(form, "name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"").Groups[1].Value;
        using var login = await http.PostAsync("/dashboard/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["key"] = Nodes.AdminKey,
            ["__RequestVerificationToken"] = token,
        }));
        if (login.StatusCode != HttpStatusCode.Redirect) throw new InvalidOperationException($"dashboard login answered {(int)login.StatusCode}");
        return http;
    }

    private static async Task GetPageAsync(HttpClient http, string path)
    {
        using var response = await http.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.OK) throw new InvalidOperationException($"GET {path} answered {(int)response.StatusCode}: {body[..Math.Min(300, body.Length)]}");
    }

    private static string ReadFrom(string path, long offset)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        stream.Seek(offset, SeekOrigin.Begin);
        return new StreamReader(stream).ReadToEnd();
    }
}
