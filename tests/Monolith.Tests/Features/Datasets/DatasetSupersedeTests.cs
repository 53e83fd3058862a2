using System.Net.Http.Json;
using Monolith.Tests.Infrastructure;
using Npgsql;
using Scope = (string Dataset, string? Region, int? Year, string Kind, long Rows);

namespace Monolith.Tests.Features.Datasets;

/// <summary>
/// One dataset per scope: a later upload for the same country, region and year supersedes the earlier one's
/// records for those years (the newest completed dataset wins), so the name queries never count a year twice.
/// </summary>
public sealed class DatasetSupersedeTests(DatasetsFactory app) : IClassFixture<DatasetsFactory>, IDisposable
{
    private readonly TestFiles _files = new();

    public void Dispose() => _files.Dispose();

    private static IEnumerable<string> Lines(int count) => [$"Alice,F,{count}", $"Bob,M,{count + 1}"];

    [Fact]
    public async Task SecondUploadOfTheSameYear_SupersedesTheFirst_AndQueriesCountItOnce()
    {
        var client = await app.CreateTenantClientAsync();
        var first = await client.WaitUntilFinishedAsync((await client.UploadAcceptedAsync(_files.WriteText("yob2001.txt", Lines(100)))).Id);
        var secondPath = Path.Combine(Directory.CreateDirectory(Path.Combine(_files.Directory, "again")).FullName, "yob2001.txt");
        File.WriteAllLines(secondPath, Lines(300));

        var second = await client.WaitUntilFinishedAsync((await client.UploadAcceptedAsync(secondPath)).Id);

        Assert.Equal(("completed", "completed"), (first.State, second.State));
        var firstNow = await client.GetDatasetAsync(first.Id);
        Assert.Equal(2, firstNow.RowsSuperseded);
        Assert.Equal(second.Id, firstNow.SupersededBy);
        Assert.Equal(0, second.RowsSuperseded);
        var alice = await client.GetFromJsonAsync<NameByYearDto>("/v1/names/Alice?country=US", JobClientExtensions.Json);
        Assert.Equal([new YearCountDto(2001, 300)], alice!.Years);
    }

    [Fact]
    public async Task ANewerFileOfOneYear_ReplacesOnlyThatYear_OfAnOlderZip()
    {
        var client = await app.CreateTenantClientAsync();
        var zip = _files.WriteZip("names.zip", ("yob2002.txt", Lines(10)), ("yob2003.txt", Lines(20)));
        var older = await client.WaitUntilFinishedAsync((await client.UploadAcceptedAsync(zip)).Id);

        var newer = await client.WaitUntilFinishedAsync((await client.UploadAcceptedAsync(_files.WriteText("yob2003.txt", Lines(99)))).Id);

        Assert.Equal(("completed", "completed"), (older.State, newer.State));
        var olderNow = await client.GetDatasetAsync(older.Id);
        Assert.Equal((4L, 2L, newer.Id), (olderNow.RowsInserted, olderNow.RowsSuperseded, olderNow.SupersededBy!.Value));
        var bob = await client.GetFromJsonAsync<NameByYearDto>("/v1/names/Bob?country=US", JobClientExtensions.Json);
        Assert.Equal([new YearCountDto(2002, 11), new YearCountDto(2003, 100)], bob!.Years);
    }

    [Fact]
    public async Task OtherTenantsAndOtherCountries_AreNotSuperseded()
    {
        var tenantA = await app.CreateTenantClientAsync();
        var tenantB = await app.CreateTenantClientAsync();
        var a = await tenantA.WaitUntilFinishedAsync((await tenantA.UploadAcceptedAsync(_files.WriteText("yob2004.txt", Lines(5)))).Id);

        var b = await tenantB.WaitUntilFinishedAsync((await tenantB.UploadAcceptedAsync(_files.WriteText("yob2004.txt", Lines(7)))).Id);

        Assert.Equal(("completed", "completed"), (a.State, b.State));
        Assert.Equal(0, (await tenantA.GetDatasetAsync(a.Id)).RowsSuperseded);
        var alice = await tenantA.GetFromJsonAsync<NameByYearDto>("/v1/names/Alice?country=US", JobClientExtensions.Json);
        Assert.Equal([new YearCountDto(2004, 5)], alice!.Years);
    }

    /// <summary>The rows the given datasets hold now per (region, year, kind), read by SQL, each dataset shown by its name in <paramref name="names"/>.</summary>
    private async Task<List<Scope>> ScopesAsync(params (string Name, Guid Id)[] names)
    {
        await using var connection = await TestDatabase.OpenAsync(app.DatabaseUrl);
        await using var command = new NpgsqlCommand("""
            SELECT dataset_id, region, year, kind, count(*) FROM name_records WHERE dataset_id = ANY($1)
            GROUP BY dataset_id, region, year, kind
            """, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = names.Select(n => n.Id).ToArray() });
        await using var reader = await command.ExecuteReaderAsync();
        var scopes = new List<Scope>();
        while (await reader.ReadAsync())
        {
            scopes.Add((names.Single(n => n.Id == reader.GetGuid(0)).Name, reader.IsDBNull(1) ? null : reader.GetString(1),
                reader.IsDBNull(2) ? null : reader.GetInt32(2), reader.GetString(3), reader.GetInt64(4)));
        }
        return [.. scopes.OrderBy(s => s.Region).ThenBy(s => s.Year).ThenBy(s => s.Kind).ThenBy(s => s.Dataset)];
    }

    private static IEnumerable<string> YobLines(int year, int perSex) =>
        TestFiles.YobLines(perSex).Select(l => l.Split(',') is [var n, var s, var c] ? $"{n},{s},{int.Parse(c) + year}" : l);

    [Fact]
    public async Task AMultiYearZip_SupersededByAnotherMultiYearZip_TheLaterWinsPerYear()
    {
        var client = await app.CreateTenantClientAsync();
        var older = await client.WaitUntilFinishedAsync((await client.UploadAcceptedAsync(_files.WriteZip("names.zip",
            [.. Enumerable.Range(2001, 5).Select(y => ($"yob{y}.txt", YobLines(y, 10)))]))).Id);      // 2001–2005, 20 rows a year
        var newerZip = _files.WriteZip("names2.zip", [.. Enumerable.Range(2004, 5).Select(y => ($"yob{y}.txt", YobLines(y, 15)))]); // 2004–2008, 30 a year

        var newer = await client.WaitUntilFinishedAsync((await client.UploadAcceptedAsync(newerZip)).Id);

        Assert.Equal(("completed", "completed"), (older.State, newer.State));
        Assert.Equal<Scope>(
        [
            ("older", null, 2001, "name", 20), ("older", null, 2002, "name", 20), ("older", null, 2003, "name", 20),
            ("newer", null, 2004, "name", 30), ("newer", null, 2005, "name", 30), ("newer", null, 2006, "name", 30),
            ("newer", null, 2007, "name", 30), ("newer", null, 2008, "name", 30),
        ], await ScopesAsync(("older", older.Id), ("newer", newer.Id)));
        var olderNow = await client.GetDatasetAsync(older.Id);
        Assert.Equal((100L, 40L, newer.Id), (olderNow.RowsInserted, olderNow.RowsSuperseded, olderNow.SupersededBy!.Value));
        Assert.Equal(0, (await client.GetDatasetAsync(newer.Id)).RowsSuperseded);
        var top2004 = await client.GetFromJsonAsync<TopNamesDto>("/v1/names/top?country=US&year=2004&sex=F&limit=1", JobClientExtensions.Json);
        Assert.Equal([new NameCountDto(TestFiles.NameAt(0), "F", 10_000 + 2004)], top2004!.Names);
    }

    [Fact]
    public async Task AStateZip_SupersededByAnother_ReplacesOnlyItsStatesAndYears()
    {
        var client = await app.CreateTenantClientAsync();
        static IEnumerable<string> State(string state, params int[] years) =>
            years.SelectMany(y => new[] { $"{state},F,{y},Alice,{y - 1990}", $"{state},M,{y},Bob,{y - 1980}" });
        var national = await client.WaitUntilFinishedAsync((await client.UploadAcceptedAsync(_files.WriteText("yob2002.txt", ["Alice,F,7"]))).Id);
        var older = await client.WaitUntilFinishedAsync((await client.UploadAcceptedAsync(
            _files.WriteZip("states.zip", ("AK.TXT", State("AK", 2001, 2002, 2003)), ("AL.TXT", State("AL", 2001, 2002, 2003))), "US", "us_state")).Id);

        var newer = await client.WaitUntilFinishedAsync((await client.UploadAcceptedAsync(
            _files.WriteZip("states2.zip", ("AK.TXT", State("AK", 2002, 2003, 2004))), "US", "us_state")).Id);

        Assert.Equal(("completed", "completed", "completed"), (national.State, older.State, newer.State));
        Assert.Equal<Scope>(
        [
            ("national", null, 2002, "name", 1),
            ("older", "AK", 2001, "name", 2), ("newer", "AK", 2002, "name", 2), ("newer", "AK", 2003, "name", 2), ("newer", "AK", 2004, "name", 2),
            ("older", "AL", 2001, "name", 2), ("older", "AL", 2002, "name", 2), ("older", "AL", 2003, "name", 2),
        ], await ScopesAsync(("national", national.Id), ("older", older.Id), ("newer", newer.Id)));
        var olderNow = await client.GetDatasetAsync(older.Id);
        Assert.Equal((4L, newer.Id), (olderNow.RowsSuperseded, olderNow.SupersededBy!.Value));
        Assert.Equal(0, (await client.GetDatasetAsync(national.Id)).RowsSuperseded);
    }

    [Fact]
    public async Task AFrenchFile_SupersededByAnother_TakesItsYearsAggregatesAndUnknownYear()
    {
        var client = await app.CreateTenantClientAsync();
        var older = await client.WaitUntilFinishedAsync((await client.UploadAcceptedAsync(_files.WriteText("nat2021.csv",
        [
            "sexe;preusuel;annais;nombre",
            "2;MARIE;1990;100", "2;MARIE;1991;101", "2;MARIE;1992;102",
            "1;_PRENOMS_RARES;1991;30", "1;_PRENOMS_RARES;1992;31", "1;JEAN;XXXX;5", "2;_PRENOMS_RARES;XXXX;9",
        ]), "FR")).Id);

        var newer = await client.WaitUntilFinishedAsync((await client.UploadAcceptedAsync(_files.WriteText("nat2022.csv",
        [
            "sexe;preusuel;annais;nombre",
            "2;MARIE;1992;202", "2;MARIE;1993;203", "1;PAUL;XXXX;6",
        ]), "FR")).Id);

        Assert.Equal(("completed", "completed"), (older.State, newer.State));
        Assert.Equal<Scope>(
        [
            ("newer", null, null, "aggregate", 1),
            ("older", null, 1990, "name", 1),
            ("older", null, 1991, "aggregate", 1), ("older", null, 1991, "name", 1),
            ("newer", null, 1992, "name", 1),
            ("newer", null, 1993, "name", 1),
        ], await ScopesAsync(("older", older.Id), ("newer", newer.Id)));
        Assert.Equal(4, (await client.GetDatasetAsync(older.Id)).RowsSuperseded); // MARIE and the rare names of 1992, both XXXX rows
    }
}
