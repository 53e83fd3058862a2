using System.Diagnostics;
using System.Globalization;

namespace Monolith.Bench;

/// <summary>Scenario 14 (issue 15): a CSV import's rows/s beside psql \copy of the same file into a jsonb table.</summary>
public sealed partial class Bench
{
    private const int ImportRows = 500_000;
    private double? _importRate, _importCopyRate, _importRssMb;

    /// <summary>The id of an import's job.</summary>
    private static async Task<string> JobOfAsync(HttpClient http, string importId)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync($"/v1/imports/{importId}"));
        return doc.RootElement.GetProperty("job").GetProperty("id").GetString()!;
    }

    private async Task CsvImportAsync()
    {
        var database = await db.CreateDatabaseAsync("bench_s14_import");
        var work = Directory.CreateTempSubdirectory("monolith-bench-import-").FullName;
        try
        {
            var env = new Dictionary<string, string> { ["Storage__Root"] = Path.Combine(work, "store") };
            await using var api = await StartAsync(database, "api", "s14-api", env);
            await using var worker = await StartAsync(database, "worker", "s14-worker", env);
            using var http = Load.Client(api.BaseUrl);

            // One file for both: a header and quoted fields holding the delimiter, as exported CSVs have them.
            var csv = Path.Combine(work, "orders.csv");
            await using (var w = new StreamWriter(csv))
            {
                await w.WriteAsync("id,customer,city,amount,note\n");
                for (var i = 1; i <= ImportRows; i++)
                {
                    await w.WriteAsync(string.Create(CultureInfo.InvariantCulture,
                        $"{i},{SyntheticName(i % 50_000)},\"City {i % 977}, Region {i % 13}\",{i % 10_000 / 100.0:F2},\"note {i}\"\n"));
                }
            }
            Line($"CSV file: {new FileInfo(csv).Length / 1024.0 / 1024.0:F1} MB, {ImportRows:N0} rows of 5 columns (quoted fields with commas)");

            var uploadClock = Stopwatch.StartNew();
            var id = await PostFileAsync(http, "/v1/imports", csv, "orders.csv", ("snapshot", "orders"), ("idColumn", "id"));
            Line($"upload (streamed to the file store, import row, import_records job): {uploadClock.Elapsed.TotalSeconds:F2} s");

            string state;
            await using (var sampler = new RssSampler([worker]))
            {
                state = await WaitForStateAsync(http, $"/v1/imports/{id}", TimeSpan.FromMinutes(10), TimeSpan.FromMilliseconds(100), "completed", "failed", "cancelled");
                _importRssMb = Mb(sampler.Peak(worker.InstanceId).PeakKb);
            }
            // The job's outcome is recorded just after the import's last commit: wait for it too.
            await WaitForStateAsync(http, $"/v1/jobs/{await JobOfAsync(http, id)}", TimeSpan.FromMinutes(1), TimeSpan.FromMilliseconds(50), "succeeded", "failed", "cancelled");
            var row = (await db.RowsAsync(database,
                """
                SELECT i.records_upserted, (extract(epoch FROM j.finished_at - j.started_at) * 1000)::float8
                FROM imports i JOIN jobs j ON j.id = i.job_id WHERE i.id = @id
                """,
                ("id", Guid.Parse(id))))[0];
            var upserted = Convert.ToInt64(row[0], CultureInfo.InvariantCulture);
            var importMs = row[1] as double? ?? double.NaN;
            _importRate = upserted / (importMs / 1000);
            Result($"import_records: {state}, {upserted:N0} records in {importMs / 1000:F2} s = {_importRate:F0} rows/s " +
                   "(the job's started_at → finished_at: read, parse, JSON, batched upsert into snapshot_records with its checkpoint, commit)");
            Result($"worker RSS peak during the import: {_importRssMb:F0} MB");

            // psql: \copy the same file into a staging table, then the rows as jsonb under a primary key and a GIN index like
            // snapshot_records' (what the import stores and maintains).
            var copyS = await PsqlAsync(database,
                "CREATE TABLE copy_staging (id text, customer text, city text, amount text, note text)",
                $"\\copy copy_staging FROM '{csv}' WITH (FORMAT csv, HEADER true)",
                "CREATE TABLE copy_records (external_id text PRIMARY KEY, data jsonb NOT NULL)",
                "CREATE INDEX ix_copy_records_data ON copy_records USING gin (data jsonb_path_ops)",
                "INSERT INTO copy_records SELECT id, jsonb_build_object('id', id, 'customer', customer, 'city', city, 'amount', amount, 'note', note) FROM copy_staging");
            _importCopyRate = ImportRows / copyS;
            Result($"psql \\copy of the same file into a staging table, then INSERT … SELECT as jsonb under a primary key and a jsonb_path_ops GIN index (same database): " +
                   $"{copyS:F2} s = {_importCopyRate:F0} rows/s → import_records runs at {_importRate / _importCopyRate:P0} of it");
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
