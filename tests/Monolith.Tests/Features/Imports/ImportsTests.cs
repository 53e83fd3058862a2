using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Monolith.Tests.Features.Datasets;
using Monolith.Tests.Features.Syncs;
using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Features.Imports;

/// <summary>
/// CSV/TSV imports end to end on the in-process service and real PostgreSQL: real published files (npm's vega-datasets)
/// and crafted ones uploaded over HTTP, upserted by the embedded worker, and read back through
/// <c>/v1/snapshots/{name}/records</c>; each test uses its own tenant. Counts are checked against an independent parser.
/// </summary>
public sealed class ImportsTests(ImportsFactory app) : IClassFixture<ImportsFactory>, IDisposable
{
    private readonly TestFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public async Task RealAirportsCsv_IsUpsertedWhole_AndReadBackThroughTheSnapshotsApi()
    {
        var client = await app.CreateTenantClientAsync();
        var path = await VegaDatasets.FileAsync("airports.csv");
        var (header, rows) = ImportTestKit.ParseIndependently(path);
        Assert.Contains(rows, r => r.Any(f => f.Contains(','))); // quoted fields with commas are part of what is checked

        var created = await client.ImportAcceptedAsync(path, "airports", "iata");
        var import = await client.WaitForImportAsync(created.Id);

        Assert.Equal("completed", import.State);
        Assert.Equal((rows.Count, rows.Count, 0L), (import.RowsRead, import.RecordsUpserted, import.RowsRejected));
        Assert.Equal((new FileInfo(path).Length, 100), (import.SizeBytes, import.ProgressPercent));
        Assert.Equal((",", "utf-8", true), (import.Delimiter, import.Encoding, import.HasHeader));
        var records = await client.AllRecordsAsync("airports");
        Assert.Equal(rows.Count, records.Count);
        var byId = records.ToDictionary(r => r.ExternalId);
        foreach (var row in rows)
        {
            var data = byId[row[0]].Data;
            for (var i = 0; i < header.Length; i++) Assert.Equal(row[i], data.GetProperty(header[i]).GetString());
        }
        Assert.All(records, r => Assert.Equal((created.Id, (Guid?)null), (r.ImportId!.Value, r.SyncId)));
    }

    [Fact]
    public async Task RealGzipZipAndTsvFiles_HoldAsManyRecordsAsAnIndependentParserReads()
    {
        var client = await app.CreateTenantClientAsync();
        var zipcodes = await VegaDatasets.FileAsync("zipcodes.csv");
        var unemployment = await VegaDatasets.FileAsync("unemployment.tsv");
        var airports = await VegaDatasets.FileAsync("airports.csv");
        var zipRows = ImportTestKit.ParseIndependently(zipcodes).Rows.Count;
        var tsvRows = ImportTestKit.ParseIndependently(unemployment, "\t").Rows.Count;
        var airportLines = File.ReadAllLines(airports);
        var airportRows = ImportTestKit.ParseIndependently(airports).Rows.Count;

        var gzipPath = Path.Combine(_files.Directory, "zipcodes.csv.gz");
        await using (var gzip = new GZipStream(File.Create(gzipPath), CompressionLevel.Fastest))
        await using (var source = File.OpenRead(zipcodes)) await source.CopyToAsync(gzip);
        var zipPath = Path.Combine(_files.Directory, "airports.zip");
        using (var zip = ZipFile.Open(zipPath, ZipArchiveMode.Create))
        {
            var half = airportLines.Length / 2;
            Write(zip, "part1.csv", airportLines[..half]);
            Write(zip, "part2.csv", [airportLines[0], .. airportLines[half..]]);
            Write(zip, "__MACOSX/._part1.csv", ["not data"]);
        }

        var fromGzip = await client.ImportAcceptedAsync(gzipPath, "zipcodes", "zip_code");
        var fromTsv = await client.ImportAcceptedAsync(unemployment, "unemployment", "id"); // a .tsv is read with tabs by default
        var fromZip = await client.ImportAcceptedAsync(zipPath, "airports-zip", "iata");

        var gz = await client.WaitForImportAsync(fromGzip.Id);
        var tsv = await client.WaitForImportAsync(fromTsv.Id);
        var zipped = await client.WaitForImportAsync(fromZip.Id);
        Assert.Equal(("completed", zipRows, 0L), (gz.State, gz.RecordsUpserted, gz.RowsRejected));
        Assert.Equal(zipRows, await app.RecordCountAsync("zipcodes", fromGzip.Id));
        Assert.Equal(("completed", tsvRows, @"\t"), (tsv.State, tsv.RecordsUpserted, tsv.Delimiter));
        Assert.Equal(tsvRows, (await client.AllRecordsAsync("unemployment")).Count);
        Assert.Equal(("completed", airportRows, 0L), (zipped.State, zipped.RecordsUpserted, zipped.RowsRejected));
        Assert.Equal(airportRows, await app.RecordCountAsync("airports-zip", fromZip.Id));

        var one = await client.GetFromJsonAsync<SnapshotRecordDto>("/v1/snapshots/zipcodes/records/00501", JobClientExtensions.Json);
        Assert.Equal("Holtsville", one!.Data.GetProperty("city").GetString());

        static void Write(ZipArchive zip, string name, IEnumerable<string> lines)
        {
            using var writer = new StreamWriter(zip.CreateEntry(name).Open());
            foreach (var line in lines) writer.Write(line + "\n");
        }
    }

    [Fact]
    public async Task QuotedLineBreaks_ABom_Latin1_AndHeaderlessFiles_AreRead()
    {
        var client = await app.CreateTenantClientAsync();
        var bom = _files.WriteBytes("bom.csv",
            [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes("id,name,note\r\n1,\"Zoë, the first\",\"two\nlines\"\r\n2,\"say \"\"hi\"\"\",plain\r\n")]);
        var latin1 = _files.WriteBytes("villes.csv", Encoding.Latin1.GetBytes("id;ville\n1;Orléans\n2;Besançon\n3;Metz\n"));
        var headerless = _files.WriteText("pairs.csv", ["a,1", "b,2", "c,3"]);

        var fromBom = await client.ImportAcceptedAsync(bom, "bom", "id");
        var fromLatin1 = await client.ImportAcceptedAsync(latin1, "villes", "id", new() { ["delimiter"] = ";", ["encoding"] = "latin1" });
        var asUtf8 = await client.ImportAcceptedAsync(latin1, "villes-utf8", "id", new() { ["delimiter"] = ";", ["maxBadRowShare"] = "1" });
        var fromHeaderless = await client.ImportAcceptedAsync(headerless, "pairs", "c2", new() { ["hasHeader"] = "false" });

        Assert.Equal(("completed", 2L), ((await client.WaitForImportAsync(fromBom.Id)).State, (await client.GetImportAsync(fromBom.Id)).RecordsUpserted));
        var first = await client.GetFromJsonAsync<SnapshotRecordDto>("/v1/snapshots/bom/records/1", JobClientExtensions.Json);
        Assert.Equal(("Zoë, the first", "two\nlines"), (first!.Data.GetProperty("name").GetString(), first.Data.GetProperty("note").GetString()));
        var second = await client.GetFromJsonAsync<SnapshotRecordDto>("/v1/snapshots/bom/records/2", JobClientExtensions.Json);
        Assert.Equal("say \"hi\"", second!.Data.GetProperty("name").GetString());

        Assert.Equal("completed", (await client.WaitForImportAsync(fromLatin1.Id)).State);
        var villes = await client.AllRecordsAsync("villes");
        Assert.Equal(["Orléans", "Besançon", "Metz"], villes.Select(r => r.Data.GetProperty("ville").GetString()));

        var wrong = await client.WaitForImportAsync(asUtf8.Id);
        Assert.Equal(("completed", 1L, 2L), (wrong.State, wrong.RecordsUpserted, wrong.RowsRejected));
        Assert.Equal([2L, 3L], wrong.Errors.Select(e => e.Line));
        Assert.All(wrong.Errors, e => Assert.Contains("UTF-8", e.Reason));

        Assert.Equal("completed", (await client.WaitForImportAsync(fromHeaderless.Id)).State);
        var pairs = await client.AllRecordsAsync("pairs");
        Assert.Equal(["1", "2", "3"], pairs.Select(r => r.ExternalId));
        Assert.Equal("a", pairs[0].Data.GetProperty("c1").GetString());
    }

    [Fact]
    public async Task BadRows_AreReportedWithLineNumbers_AndPastTheShareTheImportFails()
    {
        var client = await app.CreateTenantClientAsync();
        var path = _files.WriteBytes("scores.csv", Encoding.UTF8.GetBytes(
            "id,name,score\n" +    // 1
            "1,a,10\n" +           // 2
            "2,b\n" +              // 3: a field short
            ",c,5\n" +             // 4: no id
            "1,d,7\n" +            // 5: id 1 again
            "3,\"multi\nline\",8\n" + // 6-7
            "4,e,9,extra\n" +      // 8: a field too many
            "5,f,1\n"));           // 9

        var tolerant = await client.ImportAcceptedAsync(path, "scores", "id", new() { ["maxBadRowShare"] = "0.6" });
        var strict = await client.ImportAcceptedAsync(path, "scores-strict", "id"); // the default share: 1 %

        var done = await client.WaitForImportAsync(tolerant.Id);
        Assert.Equal(("completed", 7L, 3L, 4L), (done.State, done.RowsRead, done.RecordsUpserted, done.RowsRejected));
        Assert.Equal([3L, 4L, 5L, 8L], done.Errors.Select(e => e.Line));
        Assert.Contains("Expected 3 fields, found 2", done.Errors[0].Reason);
        Assert.Contains("No id", done.Errors[1].Reason);
        Assert.Contains("Duplicate id '1'", done.Errors[2].Reason);
        Assert.Equal(["1", "3", "5"], (await client.AllRecordsAsync("scores")).Select(r => r.ExternalId));
        Assert.Equal("10", (await client.AllRecordsAsync("scores"))[0].Data.GetProperty("score").GetString()); // the first row with id 1 stays

        var failed = await client.WaitForImportAsync(strict.Id);
        Assert.Equal(("failed", "failed", 4L), (failed.State, failed.Job!.State, failed.RowsRejected));
        Assert.Contains("4 of 7 rows are bad", failed.Error);
        Assert.Equal([3L, 4L, 5L, 8L], failed.Errors.Select(e => e.Line));
        Assert.Empty(await client.AllRecordsAsync("scores-strict")); // one batch: nothing was committed before the end
    }

    [Fact]
    public async Task BadRequests_AreProblemsNamingTheField_AndAnUnknownIdColumnFailsTheImport()
    {
        var client = await app.CreateTenantClientAsync();
        var path = _files.WriteText("small.csv", ["id,name", "1,a"]);
        var good = new Dictionary<string, string> { ["snapshot"] = "small", ["idColumn"] = "id" };

        await AssertFieldAsync(client.PostImportAsync(path, new(good) { ["encoding"] = "ebcdic" }), "encoding");
        await AssertFieldAsync(client.PostImportAsync(path, new(good) { ["delimiter"] = "ab" }), "delimiter");
        await AssertFieldAsync(client.PostImportAsync(path, new(good) { ["maxBadRowShare"] = "2" }), "maxBadRowShare");
        await AssertFieldAsync(client.PostImportAsync(path, new(good) { ["maxBadRowShare"] = "lots" }), "maxBadRowShare");
        await AssertFieldAsync(client.PostImportAsync(path, new(good) { ["hasHeader"] = "maybe" }), "hasHeader");
        await AssertFieldAsync(client.PostImportAsync(path, new(good) { ["hasHeader"] = "false" }), "idColumn"); // id is not c1…cN
        await AssertFieldAsync(client.PostImportAsync(path, new(good) { ["snapshot"] = "../etc" }), "snapshot");
        await AssertFieldAsync(client.PostImportAsync(path, new() { ["snapshot"] = "small" }), "idColumn");
        await AssertFieldAsync(client.PostImportAsync(null, good), "file");
        await AssertFieldAsync(client.PostImportAsync(path, new(good) { ["callbackUrl"] = "http://10.1.2.3/hook" }), "callbackUrl"); // a private address
        await AssertFieldAsync(client.PostAsJsonAsync("/v1/imports", new { uploadId = Guid.NewGuid(), snapshot = "small", idColumn = "id", callbackUrl = "http://169.254.169.254/" }), "callbackUrl");
        await AssertFieldAsync(client.PostImportAsync(path, new(good) { ["snapshot"] = "a\0b" }), "snapshot");
        await AssertFieldAsync(client.PostAsJsonAsync("/v1/imports", new { uploadId = Guid.NewGuid(), snapshot = "small", idColumn = "i\0d" }), "idColumn");
        await AssertFieldAsync(client.PostAsJsonAsync("/v1/imports", new { uploadId = Guid.NewGuid(), snapshot = "small", idColumn = "id", encoding = "utf-16" }), "encoding");
        await AssertFieldAsync(client.PostAsJsonAsync("/v1/imports", new { uploadId = Guid.NewGuid(), snapshot = "small", idColumn = "id" }), "uploadId");
        await AssertFieldAsync(client.PostAsJsonAsync("/v1/imports", new { snapshot = "small", idColumn = "id" }), "uploadId");
        using (var notFound = await client.GetAsync($"/v1/imports/{Guid.NewGuid()}")) Assert.Equal(HttpStatusCode.NotFound, notFound.StatusCode);

        var unknownColumn = await client.ImportAcceptedAsync(path, "small", "ident");
        var failed = await client.WaitForImportAsync(unknownColumn.Id);
        Assert.Equal("failed", failed.State);
        Assert.Contains("idColumn 'ident' is not in the header", failed.Error);
        Assert.Equal(1, failed.Job!.Attempt); // a permanent failure: not retried

        static async Task AssertFieldAsync(Task<HttpResponseMessage> sending, string field)
        {
            using var response = await sending;
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.True(problem.RootElement.GetProperty("errors").TryGetProperty(field, out _), $"No error on {field}: {problem.RootElement}");
        }
    }

    [Fact]
    public async Task AFilePastTheUploadLimit_Is413_AndAFileWithoutRows_FailsTheImport()
    {
        var client = await app.CreateTenantClientAsync();
        var tooLarge = _files.WriteBytes("large.csv", [.. Encoding.ASCII.GetBytes("id\n"), .. Enumerable.Repeat((byte)'1', (int)ImportsFactory.MaxUploadBytes)]);
        var headerOnly = _files.WriteText("header.csv", ["id,name"]);
        var filesBefore = app.StoredFiles().Length;

        using (var response = await client.PostImportAsync(tooLarge, new() { ["snapshot"] = "large", ["idColumn"] = "id" }))
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
        Assert.Equal(filesBefore, app.StoredFiles().Length); // nothing kept

        var empty = await client.ImportAcceptedAsync(headerOnly, "empty", "id");
        var failed = await client.WaitForImportAsync(empty.Id);
        Assert.Equal("failed", failed.State);
        Assert.Contains("holds no rows", failed.Error);
    }

    [Fact]
    public async Task AnUnclosedQuote_FailsTheImport_InsteadOfHoldingTheRestOfTheFileAsOneRow()
    {
        var client = await app.CreateTenantClientAsync();
        var path = _files.WriteBytes("unclosed.csv", Encoding.ASCII.GetBytes("id,note\n1,fine\n2,\"never closed\n" + new string('x', 9_000_000) + "\n3,late\n"));

        var created = await client.ImportAcceptedAsync(path, "unclosed", "id");
        var failed = await client.WaitForImportAsync(created.Id);

        Assert.Equal(("failed", 1), (failed.State, failed.Job!.Attempt));
        Assert.Contains("The row from line 3 on is longer than 4,194,304 characters", failed.Error);
    }

    [Fact]
    public async Task Cancel_Retry_AndReprocess_FollowTheImportsState_AndOtherTenantsSeeNothing()
    {
        var client = await app.CreateTenantClientAsync();
        using var admin = app.CreateAdminClient();
        var path = await VegaDatasets.FileAsync("unemployment.tsv");
        var rows = ImportTestKit.ParseIndependently(path, "\t").Rows.Count;

        // A paused queue holds the job waiting, so the cancel surely finds it so.
        (await admin.PostAsJsonAsync("/v1/queues/default/pause", new { })).EnsureSuccessStatusCode();
        ImportDto cancelled;
        ImportCreatedDto created;
        try
        {
            created = await client.ImportAcceptedAsync(path, "rates", "id");
            using var cancel = await client.PostAsync($"/v1/imports/{created.Id}/cancel", null);
            Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
            cancelled = await client.WaitForImportAsync(created.Id);
            using var again = await client.PostAsync($"/v1/imports/{created.Id}/cancel", null);
            Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        }
        finally
        {
            (await admin.PostAsJsonAsync("/v1/queues/default/resume", new { })).EnsureSuccessStatusCode();
        }
        Assert.Equal(("cancelled", 0L), (cancelled.State, cancelled.RecordsUpserted));

        using (var retry = await client.PostAsync($"/v1/imports/{created.Id}/retry", null)) Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
        var retried = await client.WaitForImportAsync(created.Id);
        Assert.Equal(("completed", (long)rows), (retried.State, retried.RecordsUpserted));
        using (var retryDone = await client.PostAsync($"/v1/imports/{created.Id}/retry", null)) Assert.Equal(HttpStatusCode.Conflict, retryDone.StatusCode);

        using (var reprocess = await client.PostAsync($"/v1/imports/{created.Id}/reprocess", null))
        {
            Assert.Equal(HttpStatusCode.Accepted, reprocess.StatusCode);
            var answered = (await reprocess.Content.ReadFromJsonAsync<ImportDto>(JobClientExtensions.Json))!;
            Assert.NotEqual(retried.Job!.Id, answered.Job!.Id);
            Assert.Equal(0, answered.RowsRead);
        }
        var reprocessed = await client.WaitForImportAsync(created.Id);
        Assert.Equal(("completed", (long)rows, (long)rows), (reprocessed.State, reprocessed.RowsRead, reprocessed.RecordsUpserted));
        Assert.Equal(rows, (await client.AllRecordsAsync("rates")).Count);

        var list = await client.GetFromJsonAsync<ImportPageDto>("/v1/imports?snapshot=rates", JobClientExtensions.Json);
        Assert.Equal([created.Id], list!.Items.Select(i => i.Id));

        var other = await app.CreateTenantClientAsync();
        foreach (var url in new[] { $"/v1/imports/{created.Id}/cancel", $"/v1/imports/{created.Id}/retry", $"/v1/imports/{created.Id}/reprocess" })
        {
            using var response = await other.PostAsync(url, null);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }
        using (var get = await other.GetAsync($"/v1/imports/{created.Id}")) Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        Assert.Empty(await other.AllRecordsAsync("rates"));
        Assert.Empty((await other.GetFromJsonAsync<ImportPageDto>("/v1/imports", JobClientExtensions.Json))!.Items);
    }

    [Fact]
    public async Task AReadyUpload_IsImportedFromAJsonBody()
    {
        var client = await app.CreateTenantClientAsync();
        var path = await VegaDatasets.FileAsync("github.csv");
        var (header, rows) = ImportTestKit.ParseIndependently(path);
        using var form = new MultipartFormDataContent();
        form.Add(new ByteArrayContent(await File.ReadAllBytesAsync(path)), "file", "github.csv");
        using var uploaded = await client.PostAsync("/v1/uploads", form);
        Assert.Equal(HttpStatusCode.Created, uploaded.StatusCode);
        var uploadId = (await uploaded.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();

        using var response = await client.PostAsJsonAsync("/v1/imports", new { uploadId, snapshot = "github", idColumn = header[0] });
        await JobClientExtensions.EnsureSuccessAsync(response);
        var created = (await response.Content.ReadFromJsonAsync<ImportCreatedDto>(JobClientExtensions.Json))!;
        var done = await client.WaitForImportAsync(created.Id);

        Assert.Equal(("completed", "github.csv", (long)rows.Count), (done.State, done.FileName, done.RecordsUpserted));
        Assert.Equal(rows.Select(r => r[0]).Order(StringComparer.Ordinal), (await client.AllRecordsAsync("github")).Select(r => r.ExternalId));
    }
}
