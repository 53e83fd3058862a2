using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Monolith.Tests.Infrastructure;
using Npgsql;
using Row = (string? Region, int? Year, string Sex, string Name, int Count, string Kind);

namespace Monolith.Tests.Features.Datasets;

/// <summary>
/// The US by-state and French national formats, generated on disk (plain, gzip, zip), uploaded over HTTP, parsed
/// and queried back; and how a format is chosen (the <c>format</c> field, else the file's name). Each test uses its
/// own tenant.
/// </summary>
public sealed class DatasetFormatsTests(DatasetsFactory app) : IClassFixture<DatasetsFactory>, IDisposable
{
    private readonly TestFiles _files = new();

    public void Dispose() => _files.Dispose();

    /// <summary>
    /// A by-state file: <paramref name="count"/> F names of 2000 (count 500 − i) then the same names M of 2001
    /// (count 400 − i), all of <paramref name="state"/>.
    /// </summary>
    public static List<string> StateLines(string state, int count) =>
    [
        .. Enumerable.Range(0, count).Select(i => $"{state},F,2000,{TestFiles.NameAt(i)},{500 - i}"),
        .. Enumerable.Range(0, count).Select(i => $"{state},M,2001,{TestFiles.NameAt(i)},{400 - i}"),
    ];

    /// <summary>
    /// A French national file: the header, <paramref name="count"/> girls' names of 2000 (sex 2, upper case, count
    /// 1,000 − i), and 4 aggregate rows: _PRENOMS_RARES of 2000 for each sex, and two of year XXXX (one of them a
    /// real name, JEAN, whose year is unknown). Plus JEAN 1900 (sex 1) and ÉLODIE 2000, real names.
    /// </summary>
    public static List<string> FrenchLines(int count) =>
    [
        "sexe;preusuel;annais;nombre",
        "1;JEAN;1900;14097",
        "1;JEAN;XXXX;120",
        "1;_PRENOMS_RARES;2000;3000",
        "2;_PRENOMS_RARES;2000;4000",
        "2;_PRENOMS_RARES;XXXX;50000",
        "2;ÉLODIE;2000;1500",
        .. Enumerable.Range(0, count).Select(i => $"2;{TestFiles.NameAt(i).ToUpperInvariant()};2000;{1_000 - i}"),
    ];

    private async Task<List<Row>> RecordsAsync(Guid datasetId)
    {
        await using var connection = await TestDatabase.OpenAsync(app.DatabaseUrl);
        await using var command = new NpgsqlCommand(
            "SELECT region, year, sex, name, count, kind FROM name_records WHERE dataset_id = $1 ORDER BY name, sex, year NULLS FIRST, region", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = datasetId });
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<Row>();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.IsDBNull(0) ? null : reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetInt32(1),
                reader.GetString(2), reader.GetString(3), reader.GetInt32(4), reader.GetString(5)));
        }
        return rows;
    }

    private static Task<NameByYearDto?> NameAsync(HttpClient client, string query) =>
        client.GetFromJsonAsync<NameByYearDto>($"/v1/names/{query}", JobClientExtensions.Json);

    private static Task<TopNamesDto?> TopAsync(HttpClient client, string query) =>
        client.GetFromJsonAsync<TopNamesDto>($"/v1/names/top?{query}", JobClientExtensions.Json);

    [Fact]
    public async Task StateFile_StoresTheState_RejectsOtherStatesLines_AndQueriesAreNationalUnlessARegionIsAsked()
    {
        var client = await app.CreateTenantClientAsync();
        var lines = StateLines("AK", 100);       // 200 good lines
        lines.Insert(10, "CA,F,2000,Zed,5");     // line 11: another state than the file's
        var created = await client.UploadAcceptedAsync(_files.WriteText("AK.TXT", lines));
        Assert.Equal("us_state", created.Format); // told by the file's name

        var dataset = await client.WaitUntilFinishedAsync(created.Id);

        Assert.Equal("completed", dataset.State);
        Assert.Equal(200, dataset.RowsInserted);
        Assert.Equal(1, dataset.RowsRejected);
        Assert.Equal(0, dataset.AggregateRows);
        var error = Assert.Single(dataset.Errors);
        Assert.Equal(11, error.Line);
        Assert.Contains("'CA' differs from the file's (AK)", error.Reason);
        var records = await RecordsAsync(created.Id);
        Assert.Equal(200, records.Count);
        Assert.All(records, r => Assert.Equal("AK", r.Region));
        Assert.Contains(("AK", 2000, "F", TestFiles.NameAt(3), 497, "name"), records);

        // A national file of the same tenant: the national queries read it only.
        var national = await client.UploadAcceptedAsync(_files.WriteText("yob2000.txt", TestFiles.YobLines(perSex: 10)));
        Assert.Equal("completed", (await client.WaitUntilFinishedAsync(national.Id)).State);

        var name = TestFiles.NameAt(0);
        Assert.Equal([new YearCountDto(2000, 10_000 + 9_000)], (await NameAsync(client, $"{name}?country=US"))!.Years);
        var alaska = await NameAsync(client, $"{name}?country=US&region=ak");
        Assert.Equal([new YearCountDto(2000, 500), new YearCountDto(2001, 400)], alaska!.Years);
        Assert.Equal(900, alaska.Total);
        Assert.Empty((await NameAsync(client, $"{name}?country=US&region=WY"))!.Years);
        Assert.Equal(
            [new NameCountDto(TestFiles.NameAt(0), "M", 400), new NameCountDto(TestFiles.NameAt(1), "M", 399)],
            (await TopAsync(client, "country=US&region=AK&year=2001&limit=2"))!.Names);
        Assert.Equal([new NameCountDto(TestFiles.NameAt(0), "F", 10_000)], (await TopAsync(client, "country=US&year=2000&limit=1"))!.Names);
        Assert.Empty((await TopAsync(client, "country=US&year=2001"))!.Names); // 2001 is only in the AK file
    }

    [Fact]
    public async Task StateFiles_ZippedAndGzipped_AreParsed()
    {
        var client = await app.CreateTenantClientAsync();
        var zip = _files.WriteZip("namesbystate.zip",
            ("AK.TXT", StateLines("AK", 30)),
            ("StateReadMe.pdf", ["Not a names file."]),
            ("WY.TXT", StateLines("WY", 40)));
        var zipped = await client.UploadAcceptedAsync(zip, "US", "us_state");
        var gzipped = await client.UploadAcceptedAsync(_files.WriteGzip("DC.TXT.gz", StateLines("DC", 50)));
        Assert.Equal("us_state", gzipped.Format);

        var fromZip = await client.WaitUntilFinishedAsync(zipped.Id);
        var fromGzip = await client.WaitUntilFinishedAsync(gzipped.Id);

        Assert.Equal(("completed", 60 + 80, 0L), (fromZip.State, fromZip.RowsInserted, fromZip.RowsRejected));
        Assert.Equal(("completed", 100, 0L), (fromGzip.State, fromGzip.RowsInserted, fromGzip.RowsRejected));
        var records = await RecordsAsync(zipped.Id);
        Assert.Equal(60, records.Count(r => r.Region == "AK"));
        Assert.Equal(80, records.Count(r => r.Region == "WY"));
        var job = await client.WaitForStateAsync(zipped.JobId, "succeeded"); // its outcome is written just after the dataset's
        Assert.Equal(["StateReadMe.pdf"], job.Result!.Value.GetProperty("skippedEntries").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal([new YearCountDto(2000, 500 - 39)], (await NameAsync(client, $"{TestFiles.NameAt(39)}?country=US&region=WY&sex=F"))!.Years);
        Assert.Equal([new YearCountDto(2001, 400 - 49)], (await NameAsync(client, $"{TestFiles.NameAt(49)}?country=US&region=DC&sex=M"))!.Years);
        Assert.Empty((await NameAsync(client, $"{TestFiles.NameAt(0)}?country=US"))!.Years); // no national records
    }

    [Fact]
    public async Task FrenchFile_KeepsAggregatesApart_CountsThem_AndQueriesExcludeThem()
    {
        var client = await app.CreateTenantClientAsync();
        var lines = FrenchLines(150);
        lines.Insert(50, "3;PAUL;2000;5"); // line 51: sex neither 1 nor 2
        var created = await client.UploadAcceptedAsync(_files.WriteText("nat2022.csv", lines), "FR");
        Assert.Equal(("FR", "fr_national"), (created.Country, created.Format));

        var dataset = await client.WaitUntilFinishedAsync(created.Id);

        Assert.Equal("completed", dataset.State);
        Assert.Equal(6 + 150, dataset.RowsInserted); // every row but the header and the bad line
        Assert.Equal(4, dataset.AggregateRows);
        Assert.Equal(1, dataset.RowsRejected);
        Assert.Equal(51, Assert.Single(dataset.Errors).Line);
        var records = await RecordsAsync(created.Id);
        Assert.Equal(156, records.Count);
        Assert.Equal(
            new List<Row>
            {
                (null, null, "M", "JEAN", 120, "aggregate"),
                (null, null, "F", "_PRENOMS_RARES", 50_000, "aggregate"),
                (null, 2000, "M", "_PRENOMS_RARES", 3_000, "aggregate"),
                (null, 2000, "F", "_PRENOMS_RARES", 4_000, "aggregate"),
            },
            records.Where(r => r.Kind == "aggregate").OrderBy(r => r.Name, StringComparer.Ordinal).ThenBy(r => r.Year ?? 0).ThenBy(r => r.Count).ToList());
        Assert.Contains((null, 2000, "F", "ÉLODIE", 1_500, "name"), records);
        Assert.Contains((null, 1900, "M", "JEAN", 14_097, "name"), records);

        var jean = await NameAsync(client, "JEAN?country=FR");
        Assert.Equal([new YearCountDto(1900, 14_097)], jean!.Years); // not the XXXX row
        Assert.Empty((await NameAsync(client, "_PRENOMS_RARES?country=FR"))!.Years);
        Assert.Equal(
            [new NameCountDto("ÉLODIE", "F", 1_500), new NameCountDto(TestFiles.NameAt(0).ToUpperInvariant(), "F", 1_000)],
            (await TopAsync(client, "country=FR&year=2000&limit=2"))!.Names);
        Assert.Empty((await TopAsync(client, "country=FR&year=2000&sex=M"))!.Names); // only _PRENOMS_RARES is M in 2000
        var job = await client.WaitForStateAsync(created.JobId, "succeeded"); // its outcome is written just after the dataset's
        Assert.Equal(4, job.Result!.Value.GetProperty("aggregateRows").GetInt64());
    }

    [Fact]
    public async Task FrenchFile_ZippedAndGzipped_AreParsed()
    {
        // Two tenants: both files cover the same years, so in one tenant the later would supersede the earlier.
        var client = await app.CreateTenantClientAsync();
        var other = await app.CreateTenantClientAsync();
        var zipped = await client.UploadAcceptedAsync(_files.WriteZip("prenoms.zip", ("nat2021.csv", FrenchLines(60))), "FR"); // FR's default
        var gzipped = await other.UploadAcceptedAsync(_files.WriteGzip("nat2022.csv.gz", FrenchLines(70)), "FR");
        Assert.Equal(("fr_national", "fr_national"), (zipped.Format, gzipped.Format));

        var fromZip = await client.WaitUntilFinishedAsync(zipped.Id);
        var fromGzip = await other.WaitUntilFinishedAsync(gzipped.Id);

        Assert.Equal(("completed", 66L, 4L, 0L), (fromZip.State, fromZip.RowsInserted, fromZip.AggregateRows, fromZip.RowsRejected));
        Assert.Equal(("completed", 76L, 4L, 0L), (fromGzip.State, fromGzip.RowsInserted, fromGzip.AggregateRows, fromGzip.RowsRejected));
        Assert.Equal(8, (await RecordsAsync(zipped.Id)).Count(r => r.Kind == "aggregate") + (await RecordsAsync(gzipped.Id)).Count(r => r.Kind == "aggregate"));
        Assert.Equal([new YearCountDto(2000, 1_000)], (await NameAsync(client, $"{TestFiles.NameAt(0).ToUpperInvariant()}?country=FR"))!.Years);
        Assert.Equal([new YearCountDto(2000, 1_000)], (await NameAsync(other, $"{TestFiles.NameAt(0).ToUpperInvariant()}?country=FR"))!.Years);
    }

    [Fact]
    public async Task FrenchFile_WithoutItsHeader_FailsAtOnce()
    {
        var client = await app.CreateTenantClientAsync();
        var created = await client.UploadAcceptedAsync(_files.WriteText("nat2022.csv", FrenchLines(20).Skip(1)), "FR");

        var dataset = await client.WaitUntilFinishedAsync(created.Id);

        Assert.Equal("failed", dataset.State);
        Assert.Contains("does not start with the header", dataset.Error);
        Assert.Equal(1, (await client.GetJobAsync(created.JobId)).Attempt);
    }

    [Fact]
    public async Task StateFile_OfNoState_FailsAtOnce()
    {
        var client = await app.CreateTenantClientAsync();
        var created = await client.UploadAcceptedAsync(_files.WriteText("ZZ.TXT", StateLines("ZZ", 5)), "US", "us_state");

        var dataset = await client.WaitUntilFinishedAsync(created.Id);

        Assert.Equal("failed", dataset.State);
        Assert.Contains("does not fit format us_state", dataset.Error);
    }

    [Theory]
    [InlineData("yob1999.txt", "US", "us_yob")]
    [InlineData("AK.TXT", "US", "us_state")]
    [InlineData("wy.txt", "US", "us_state")]
    [InlineData("nat2022.csv", "FR", "fr_national")]
    [InlineData("names.zip", "US", "us_yob")] // a name that tells nothing: the country's default
    public async Task Format_IsDetectedFromTheFileName(string fileName, string country, string format)
    {
        var client = await app.CreateTenantClientAsync();
        using var response = await client.UploadAsync(_files.WriteText(fileName, ["x"]), country);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var created = (await response.Content.ReadFromJsonAsync<DatasetCreatedDto>(JobClientExtensions.Json))!;
        Assert.Equal((country, format), (created.Country, created.Format));
    }

    [Theory]
    [InlineData("nat2022.csv", "US", "fr_national", "format")]
    [InlineData("AK.TXT", "FR", "us_state", "format")]
    [InlineData("yob2020.txt", "FR", "us_yob", "format")]
    [InlineData("nat2022.csv", "US", null, "country")] // the name tells fr_national, for FR
    [InlineData("AK.TXT", "FR", null, "country")]
    public async Task Upload_FormatOfAnotherCountry_Is400NamingTheField(string fileName, string country, string? format, string field)
    {
        var client = await app.CreateTenantClientAsync();
        await using var db = app.CreateDbContext();
        var before = db.Datasets.Count();

        using var response = await client.UploadAsync(_files.WriteText(fileName, ["x"]), country, format);

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"expected 400, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal([field], JsonDocument.Parse(body).RootElement.GetProperty("errors").EnumerateObject().Select(p => p.Name));
        Assert.Equal(before, db.Datasets.Count());
    }

    [Theory]
    [InlineData("/v1/names/Mary?country=US&region=ZZ")]
    [InlineData("/v1/names/MARIE?country=FR&region=AK")]
    [InlineData("/v1/names/top?country=US&year=2000&region=XX")]
    public async Task Query_UnknownRegion_Is400NamingIt(string url)
    {
        var client = await app.CreateTenantClientAsync();

        using var response = await client.GetAsync(url);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(["region"], body.GetProperty("errors").EnumerateObject().Select(p => p.Name));
    }
}
