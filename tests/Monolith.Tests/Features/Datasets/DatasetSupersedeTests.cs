using System.Net.Http.Json;
using Monolith.Tests.Infrastructure;

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
}
