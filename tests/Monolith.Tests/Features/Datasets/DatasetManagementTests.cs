using System.Net;
using System.Net.Http.Json;
using Monolith.Tests.Infrastructure;
using Npgsql;

namespace Monolith.Tests.Features.Datasets;

/// <summary>
/// GET /v1/datasets (paging, country filter, tenants), POST /v1/datasets/{id}/reprocess and DELETE
/// /v1/datasets/{id}, with real files; each test uses its own tenant.
/// </summary>
public sealed class DatasetManagementTests(DatasetsFactory app) : IClassFixture<DatasetsFactory>, IDisposable
{
    private readonly TestFiles _files = new();

    public void Dispose() => _files.Dispose();

    /// <summary>Every record of a dataset, in a stable order, ids aside.</summary>
    private async Task<List<string>> RecordsAsync(Guid datasetId)
    {
        await using var connection = await TestDatabase.OpenAsync(app.DatabaseUrl);
        await using var command = new NpgsqlCommand("""
            SELECT concat_ws('|', tenant_id, country, region, coalesce(year::text, 'null'), sex, name, count, kind)
            FROM name_records WHERE dataset_id = $1 ORDER BY 1
            """, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = datasetId });
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync()) rows.Add(reader.GetString(0));
        return rows;
    }

    /// <summary>Puts a dataset in a state as its job would (to hold it in <c>processing</c> for the 409s).</summary>
    private async Task SetStateAsync(Guid datasetId, string state)
    {
        await using var connection = await TestDatabase.OpenAsync(app.DatabaseUrl);
        await using var command = new NpgsqlCommand("UPDATE datasets SET state = $2 WHERE id = $1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = datasetId });
        command.Parameters.Add(new NpgsqlParameter { Value = state });
        Assert.Equal(1, await command.ExecuteNonQueryAsync());
    }

    private async Task<DatasetCreatedDto> CompletedAsync(HttpClient client, string path, string country = "US")
    {
        var created = await client.UploadAcceptedAsync(path, country);
        Assert.Equal("completed", (await client.WaitUntilFinishedAsync(created.Id)).State);
        return created;
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task List_IsNewestFirst_PagedByCursor_FilteredByCountry_AndPerTenant()
    {
        var client = await app.CreateTenantClientAsync();
        var first = await CompletedAsync(client, _files.WriteText("yob2001.txt", TestFiles.YobLines(perSex: 5)));
        var second = await client.UploadAcceptedAsync(_files.WriteText("AK.TXT", DatasetFormatsTests.StateLines("AK", 5)));
        var third = await client.UploadAcceptedAsync(_files.WriteText("nat2022.csv", DatasetFormatsTests.FrenchLines(5)), "FR");

        var page1 = await client.GetFromJsonAsync<DatasetPageDto>("/v1/datasets?limit=2", JobClientExtensions.Json);
        Assert.Equal([third.Id, second.Id], page1!.Items.Select(d => d.Id));
        Assert.NotNull(page1.NextCursor);
        var page2 = await client.GetFromJsonAsync<DatasetPageDto>($"/v1/datasets?limit=2&cursor={page1.NextCursor}", JobClientExtensions.Json);
        Assert.Equal([first.Id], page2!.Items.Select(d => d.Id));
        Assert.Null(page2.NextCursor);
        var firstItem = page2.Items[0];
        Assert.Equal(("completed", 10L, "us_yob", first.JobId), (firstItem.State, firstItem.RowsInserted, firstItem.Format, firstItem.Job!.Id));

        var us = await client.GetFromJsonAsync<DatasetPageDto>("/v1/datasets?country=us", JobClientExtensions.Json);
        Assert.Equal([second.Id, first.Id], us!.Items.Select(d => d.Id));
        Assert.Null(us.NextCursor);
        var fr = await client.GetFromJsonAsync<DatasetPageDto>("/v1/datasets?country=FR", JobClientExtensions.Json);
        Assert.Equal([third.Id], fr!.Items.Select(d => d.Id));

        var other = await app.CreateTenantClientAsync();
        Assert.Empty((await other.GetFromJsonAsync<DatasetPageDto>("/v1/datasets", JobClientExtensions.Json))!.Items);
    }

    [Theory]
    [InlineData("/v1/datasets?cursor=nope", "cursor")]
    [InlineData("/v1/datasets?limit=0", "limit")]
    [InlineData("/v1/datasets?limit=201", "limit")]
    [InlineData("/v1/datasets?country=ZZ", "country")]
    public async Task List_BadParameter_Is400NamingIt(string url, string field)
    {
        var client = await app.CreateTenantClientAsync();

        using var response = await client.GetAsync(url);

        await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        var body = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal([field], body.GetProperty("errors").EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task Reprocess_ParsesAgain_WithTheSameExactRecords_AndNoDuplicates()
    {
        var client = await app.CreateTenantClientAsync();
        var created = await CompletedAsync(client, _files.WriteText("nat2022.csv", DatasetFormatsTests.FrenchLines(150)), "FR");
        var before = await RecordsAsync(created.Id);
        Assert.Equal(156, before.Count);

        using var response = await client.PostAsync($"/v1/datasets/{created.Id}/reprocess", null);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal($"/v1/datasets/{created.Id}", response.Headers.Location!.OriginalString);
        var reprocess = (await response.Content.ReadFromJsonAsync<DatasetCreatedDto>(JobClientExtensions.Json))!;
        Assert.NotEqual(created.JobId, reprocess.JobId);
        var job = await client.WaitForStateAsync(reprocess.JobId, "succeeded");
        Assert.Equal("reprocess_dataset", job.Type);
        var dataset = await client.WaitUntilFinishedAsync(created.Id);
        Assert.Equal(("completed", 156L, 4L, reprocess.JobId), (dataset.State, dataset.RowsInserted, dataset.AggregateRows, dataset.Job!.Id));
        Assert.Equal(before, await RecordsAsync(created.Id));
        var marie = await client.GetFromJsonAsync<NameByYearDto>($"/v1/names/{TestFiles.NameAt(0).ToUpperInvariant()}?country=FR", JobClientExtensions.Json);
        Assert.Equal([new YearCountDto(2000, 1_000)], marie!.Years);

        // Twice more, one after the other: still the same records.
        for (var i = 0; i < 2; i++)
        {
            using var again = await client.PostAsync($"/v1/datasets/{created.Id}/reprocess", null);
            Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
            var next = (await again.Content.ReadFromJsonAsync<DatasetCreatedDto>(JobClientExtensions.Json))!;
            await client.WaitForStateAsync(next.JobId, "succeeded");
        }
        Assert.Equal(before, await RecordsAsync(created.Id));
    }

    [Fact]
    public async Task Reprocess_OfAFailedDataset_RunsAgain()
    {
        var client = await app.CreateTenantClientAsync();
        var created = await client.UploadAcceptedAsync(_files.WriteText("yob2003.txt", []), "US"); // empty: fails
        Assert.Equal("failed", (await client.WaitUntilFinishedAsync(created.Id)).State);

        using var response = await client.PostAsync($"/v1/datasets/{created.Id}/reprocess", null);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var reprocess = (await response.Content.ReadFromJsonAsync<DatasetCreatedDto>(JobClientExtensions.Json))!;
        await client.WaitForStateAsync(reprocess.JobId, "failed");
        var dataset = await client.WaitUntilFinishedAsync(created.Id);
        Assert.Equal(("failed", reprocess.JobId), (dataset.State, dataset.Job!.Id));
        Assert.Contains("holds no records", dataset.Error);
    }

    [Fact]
    public async Task Delete_RemovesRecordsFileAndRow()
    {
        var client = await app.CreateTenantClientAsync();
        var kept = await CompletedAsync(client, _files.WriteText("yob2004.txt", TestFiles.YobLines(perSex: 20)));
        var created = await CompletedAsync(client, _files.WriteText("yob2005.txt", TestFiles.YobLines(perSex: 30)));
        Assert.Equal(60, (await RecordsAsync(created.Id)).Count);
        Assert.Contains(app.StoredFiles(), f => f.Contains(created.Id.ToString(), StringComparison.Ordinal));

        using var response = await client.DeleteAsync($"/v1/datasets/{created.Id}");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Empty(await RecordsAsync(created.Id));
        Assert.DoesNotContain(app.StoredFiles(), f => f.Contains(created.Id.ToString(), StringComparison.Ordinal));
        using var get = await client.GetAsync($"/v1/datasets/{created.Id}");
        await AssertProblemAsync(get, HttpStatusCode.NotFound);
        Assert.Empty((await client.GetFromJsonAsync<TopNamesDto>("/v1/names/top?country=US&year=2005", JobClientExtensions.Json))!.Names);
        using var again = await client.DeleteAsync($"/v1/datasets/{created.Id}");
        await AssertProblemAsync(again, HttpStatusCode.NotFound);

        Assert.Equal(40, (await RecordsAsync(kept.Id)).Count); // the other dataset is untouched
        Assert.Contains(app.StoredFiles(), f => f.Contains(kept.Id.ToString(), StringComparison.Ordinal));
    }

    [Fact]
    public async Task ReprocessAndDelete_WhileProcessing_Are409_AndChangeNothing()
    {
        var client = await app.CreateTenantClientAsync();
        var created = await CompletedAsync(client, _files.WriteText("yob2006.txt", TestFiles.YobLines(perSex: 10)));
        var before = await RecordsAsync(created.Id);
        await SetStateAsync(created.Id, "processing");

        using var reprocess = await client.PostAsync($"/v1/datasets/{created.Id}/reprocess", null);
        using var delete = await client.DeleteAsync($"/v1/datasets/{created.Id}");

        await AssertProblemAsync(reprocess, HttpStatusCode.Conflict);
        await AssertProblemAsync(delete, HttpStatusCode.Conflict);
        var dataset = await client.GetDatasetAsync(created.Id);
        Assert.Equal(("processing", created.JobId), (dataset.State, dataset.Job!.Id));
        Assert.Equal(before, await RecordsAsync(created.Id));
        Assert.Contains(app.StoredFiles(), f => f.Contains(created.Id.ToString(), StringComparison.Ordinal));

        await SetStateAsync(created.Id, "completed"); // finished: both are allowed again
        using var deleted = await client.DeleteAsync($"/v1/datasets/{created.Id}");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
    }

    [Fact]
    public async Task OtherTenantsDataset_CannotBeReprocessedOrDeleted()
    {
        var alice = await app.CreateTenantClientAsync();
        var bob = await app.CreateTenantClientAsync();
        var created = await CompletedAsync(alice, _files.WriteText("yob2007.txt", TestFiles.YobLines(perSex: 10)));

        using var reprocess = await bob.PostAsync($"/v1/datasets/{created.Id}/reprocess", null);
        using var delete = await bob.DeleteAsync($"/v1/datasets/{created.Id}");
        using var unknown = await alice.DeleteAsync($"/v1/datasets/{Guid.NewGuid()}");

        await AssertProblemAsync(reprocess, HttpStatusCode.NotFound);
        await AssertProblemAsync(delete, HttpStatusCode.NotFound);
        await AssertProblemAsync(unknown, HttpStatusCode.NotFound);
        var dataset = await alice.GetDatasetAsync(created.Id);
        Assert.Equal(("completed", created.JobId), (dataset.State, dataset.Job!.Id));
        Assert.Equal(20, (await RecordsAsync(created.Id)).Count);
    }
}
