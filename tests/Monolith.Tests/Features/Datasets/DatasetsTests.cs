using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Monolith.Tests.Infrastructure;
using Npgsql;

namespace Monolith.Tests.Features.Datasets;

/// <summary>
/// Names files of the US national format, generated on disk, uploaded over HTTP, parsed by the embedded worker
/// into PostgreSQL, and queried back; each test uses its own tenant.
/// </summary>
public sealed class DatasetsTests(DatasetsFactory app) : IClassFixture<DatasetsFactory>, IDisposable
{
    private readonly TestFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public async Task YobFile_Completes_WithExactRecordsAndQueryAnswers()
    {
        var client = await app.CreateTenantClientAsync();
        var path = _files.WriteText("yob2020.txt", TestFiles.YobLines(perSex: 250)); // 500 lines, 5 COPY batches

        var created = await client.UploadAcceptedAsync(path);
        var dataset = await client.WaitUntilFinishedAsync(created.Id);

        Assert.Equal("completed", dataset.State);
        Assert.Equal(("US", "us_yob", "yob2020.txt"), (dataset.Country, dataset.Format, dataset.FileName));
        Assert.Equal(new FileInfo(path).Length, dataset.SizeBytes);
        Assert.Equal(500, dataset.RowsInserted);
        Assert.Equal(0, dataset.RowsRejected);
        Assert.Empty(dataset.Errors);
        Assert.Equal(500, await app.RecordCountAsync(created.Id));
        Assert.Equal(created.JobId, dataset.Job!.Id);
        Assert.Equal("succeeded", (await client.WaitForStateAsync(created.JobId, "succeeded")).State);
        Assert.Equal(100, (await client.GetDatasetAsync(created.Id)).Job!.Progress!.Percent);
        Assert.NotNull(dataset.StartedAt);
        Assert.NotNull(dataset.FinishedAt);

        var name = TestFiles.NameAt(7);
        var both = await client.GetFromJsonAsync<NameByYearDto>($"/v1/names/{name}?country=US", JobClientExtensions.Json);
        Assert.Equal([new YearCountDto(2020, (10_000 - 7) + (9_000 - 7))], both!.Years);
        Assert.Equal(10_000 - 7 + 9_000 - 7, both.Total);
        var girls = await client.GetFromJsonAsync<NameByYearDto>($"/v1/names/{name}?country=us&sex=F", JobClientExtensions.Json);
        Assert.Equal([new YearCountDto(2020, 10_000 - 7)], girls!.Years);
        var unknown = await client.GetFromJsonAsync<NameByYearDto>("/v1/names/Zzzzzz?country=US", JobClientExtensions.Json);
        Assert.Empty(unknown!.Years);

        var topBoys = await client.GetFromJsonAsync<TopNamesDto>("/v1/names/top?country=US&year=2020&sex=M&limit=3", JobClientExtensions.Json);
        Assert.Equal(
            [new NameCountDto(TestFiles.NameAt(0), "M", 9_000), new NameCountDto(TestFiles.NameAt(1), "M", 8_999), new NameCountDto(TestFiles.NameAt(2), "M", 8_998)],
            topBoys!.Names);
        var top = await client.GetFromJsonAsync<TopNamesDto>("/v1/names/top?country=US&year=2020&limit=4", JobClientExtensions.Json);
        Assert.Equal(Enumerable.Range(0, 4).Select(i => new NameCountDto(TestFiles.NameAt(i), "F", 10_000 - i)), top!.Names);
        var tenDefault = await client.GetFromJsonAsync<TopNamesDto>("/v1/names/top?country=US&year=2020", JobClientExtensions.Json);
        Assert.Equal(10, tenDefault!.Names.Count);
        var otherYear = await client.GetFromJsonAsync<TopNamesDto>("/v1/names/top?country=US&year=2019", JobClientExtensions.Json);
        Assert.Empty(otherYear!.Names);
    }

    [Fact]
    public async Task GzipFile_IsDetectedByItsBytes_AndParsed()
    {
        var client = await app.CreateTenantClientAsync();
        var path = _files.WriteGzip("yob2019.txt.gz", TestFiles.YobLines(perSex: 120));

        var created = await client.UploadAcceptedAsync(path);
        var dataset = await client.WaitUntilFinishedAsync(created.Id);

        Assert.Equal("completed", dataset.State);
        Assert.Equal(240, dataset.RowsInserted);
        Assert.Equal(240, await app.RecordCountAsync(created.Id));
        var years = await client.GetFromJsonAsync<NameByYearDto>($"/v1/names/{TestFiles.NameAt(0)}?country=US&sex=M", JobClientExtensions.Json);
        Assert.Equal([new YearCountDto(2019, 9_000)], years!.Years);
    }

    [Fact]
    public async Task ZipWithTwoYobFiles_ParsesBoth_AndSkipsOtherEntries()
    {
        var client = await app.CreateTenantClientAsync();
        var path = _files.WriteZip("names.zip",
            ("yob2017.txt", TestFiles.YobLines(perSex: 60)),
            ("NationalReadMe.txt", ["Not a names file."]),
            ("yob2018.txt", TestFiles.YobLines(perSex: 90).Select(l => l.Split(',') is [var n, "F", var c] ? $"{n},F,{int.Parse(c) + 10_000}" : l))); // F counts of 2018: 20,000 − i

        var created = await client.UploadAcceptedAsync(path);
        var dataset = await client.WaitUntilFinishedAsync(created.Id);

        Assert.Equal("completed", dataset.State);
        Assert.Equal(120 + 180, dataset.RowsInserted);
        Assert.Equal(0, dataset.RowsRejected);
        Assert.Equal(300, await app.RecordCountAsync(created.Id));
        var job = await client.WaitForStateAsync(created.JobId, "succeeded"); // its outcome is written just after the dataset's
        Assert.Equal(["NationalReadMe.txt"], job.Result!.Value.GetProperty("skippedEntries").EnumerateArray().Select(e => e.GetString()));

        var years = await client.GetFromJsonAsync<NameByYearDto>($"/v1/names/{TestFiles.NameAt(3)}?country=US&sex=F", JobClientExtensions.Json);
        Assert.Equal([new YearCountDto(2017, 9_997), new YearCountDto(2018, 20_000 - 3)], years!.Years);
        var top2018 = await client.GetFromJsonAsync<TopNamesDto>("/v1/names/top?country=US&year=2018&sex=F&limit=1", JobClientExtensions.Json);
        Assert.Equal([new NameCountDto(TestFiles.NameAt(0), "F", 20_000)], top2018!.Names);
    }

    [Fact]
    public async Task BadLines_AreRejectedWithLineNumbers_AndCounted()
    {
        var client = await app.CreateTenantClientAsync();
        var lines = TestFiles.YobLines(perSex: 150); // 300 good lines
        lines.Insert(4, "Bad,X,3");                 // line 5: unknown sex
        lines.Insert(99, "Foo,F,many");             // line 100: count not a number
        lines.Insert(200, "");                      // a blank line is no record and no error
        var path = _files.WriteText("yob2021.txt", lines);

        var created = await client.UploadAcceptedAsync(path);
        var dataset = await client.WaitUntilFinishedAsync(created.Id);

        Assert.Equal("completed", dataset.State); // 2 bad lines of 302: under the 1 % allowed
        Assert.Equal(300, dataset.RowsInserted);
        Assert.Equal(2, dataset.RowsRejected);
        Assert.Equal([5L, 100L], dataset.Errors.Select(e => e.Line));
        Assert.Contains("Sex must be F or M", dataset.Errors[0].Reason);
        Assert.Contains("Count must be", dataset.Errors[1].Reason);
        Assert.Equal(300, await app.RecordCountAsync(created.Id));
    }

    [Fact]
    public async Task LinesWithNulOrInvalidUtf8_AreRejectedWithTheirLineNumbers_AndTheRestIsKept()
    {
        var client = await app.CreateTenantClientAsync();
        var good = TestFiles.YobLines(perSex: 150).Select(l => Encoding.UTF8.GetBytes(l + "\r\n")).ToList(); // past the first kilobyte
        good.Insert(199, Encoding.UTF8.GetBytes("Ann\0a,F,12\r\n"));                                   // line 200: a NUL inside the name
        good.Insert(200, [.. Encoding.ASCII.GetBytes("Jo"), 0xC3, 0x28, .. Encoding.ASCII.GetBytes("hn,M,7\r\n")]); // line 201: invalid UTF-8
        var path = _files.WriteBytes("yob2014.txt", [.. good.SelectMany(b => b)]);

        var created = await client.UploadAcceptedAsync(path);
        var dataset = await client.WaitUntilFinishedAsync(created.Id);

        Assert.True(dataset.State == "completed", $"{dataset.State}: {dataset.Error} (job: {dataset.Job?.LastError})");
        Assert.Equal((300L, 2L), (dataset.RowsInserted, dataset.RowsRejected));
        Assert.Equal([200L, 201L], dataset.Errors.Select(e => e.Line));
        Assert.Contains("'Ann\uFFFDa'", dataset.Errors[0].Reason); // the NUL is shown as U+FFFD, the row is not stored
        Assert.Contains("'Jo\uFFFD(hn'", dataset.Errors[1].Reason);
        Assert.Equal(300, await app.RecordCountAsync(created.Id));
        Assert.Single((await client.WaitForStateAsync(created.JobId, "succeeded")).Attempts);
    }

    [Fact]
    public async Task TooManyBadLines_FailTheDataset_AndKeepNoRecords()
    {
        var client = await app.CreateTenantClientAsync();
        var lines = TestFiles.YobLines(perSex: 100);
        for (var i = 0; i < 3; i++) lines.Add($"Broken{i}");
        var path = _files.WriteText("yob2022.txt", lines); // 3 bad of 203: 1.5 %

        var created = await client.UploadAcceptedAsync(path);
        var dataset = await client.WaitUntilFinishedAsync(created.Id);

        Assert.Equal("failed", dataset.State);
        Assert.Equal(0, dataset.RowsInserted);
        Assert.Equal(3, dataset.RowsRejected);
        Assert.Equal([201L, 202L, 203L], dataset.Errors.Select(e => e.Line));
        Assert.Contains("3 of 203 lines are bad", dataset.Error);
        Assert.Equal(0, await app.RecordCountAsync(created.Id)); // batches copied before the verdict were rolled back
        var job = await client.WaitForStateAsync(created.JobId, "failed");
        Assert.Single(job.Attempts);
    }

    [Fact]
    public async Task WrongFileName_FailsAtOnce()
    {
        var client = await app.CreateTenantClientAsync();
        var path = _files.WriteText("names2020.txt", TestFiles.YobLines(perSex: 5));

        var created = await client.UploadAcceptedAsync(path);
        var dataset = await client.WaitUntilFinishedAsync(created.Id);

        Assert.Equal("failed", dataset.State);
        Assert.Contains("does not fit format us_yob", dataset.Error);
        var job = await client.WaitForStateAsync(created.JobId, "failed");
        Assert.Equal(1, job.Attempt);
        Assert.Single(job.Attempts);
    }

    [Fact]
    public async Task BinaryFile_FailsAsNotText()
    {
        var client = await app.CreateTenantClientAsync();
        var bytes = new byte[4096];
        new Random(42).NextBytes(bytes);
        bytes[0] = 0x7F; bytes[1] = 0x45; bytes[2] = 0x4C; bytes[3] = 0x46; bytes[10] = 0; // an ELF header, NULs
        var path = _files.WriteBytes("yob2020.txt", bytes);

        var created = await client.UploadAcceptedAsync(path);
        var dataset = await client.WaitUntilFinishedAsync(created.Id);

        Assert.Equal("failed", dataset.State);
        Assert.Contains("not a text file", dataset.Error);
        Assert.Single((await client.WaitForStateAsync(created.JobId, "failed")).Attempts);
        Assert.Equal(0, await app.RecordCountAsync(created.Id));
    }

    [Fact]
    public async Task EmptyFile_Fails()
    {
        var client = await app.CreateTenantClientAsync();
        var path = _files.WriteBytes("yob2020.txt", []);

        var created = await client.UploadAcceptedAsync(path);
        var dataset = await client.WaitUntilFinishedAsync(created.Id);

        Assert.Equal("failed", dataset.State);
        Assert.Contains("holds no records", dataset.Error);
    }

    [Fact]
    public async Task CorruptGzip_FailsAtOnce()
    {
        var client = await app.CreateTenantClientAsync();
        var path = _files.WriteBytes("yob2020.txt.gz", [0x1F, 0x8B, 0x08, 0x00, 1, 2, 3, 4, 5, 6, 7, 8, 9]);

        var created = await client.UploadAcceptedAsync(path);
        var dataset = await client.WaitUntilFinishedAsync(created.Id);

        Assert.Equal("failed", dataset.State);
        Assert.Single((await client.WaitForStateAsync(created.JobId, "failed")).Attempts);
    }

    [Fact]
    public async Task OversizedUpload_Is413_AndKeepsNothing()
    {
        var client = await app.CreateTenantClientAsync();
        var lines = Enumerable.Range(0, 30_000).Select(i => $"{TestFiles.NameAt(i)},F,{i + 1}");
        var path = _files.WriteText("yob2020.txt", lines);
        Assert.True(new FileInfo(path).Length > DatasetsFactory.MaxUploadBytes);
        await using var db = app.CreateDbContext();
        var datasetsBefore = db.Datasets.Count();
        var jobsBefore = db.Jobs.Count();
        var filesBefore = app.StoredFiles().Length;

        using var response = await client.UploadAsync(path, "US");

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(413, problem.GetProperty("status").GetInt32());
        Assert.Equal(datasetsBefore, db.Datasets.Count());
        Assert.Equal(jobsBefore, db.Jobs.Count());
        Assert.Equal(filesBefore, app.StoredFiles().Length);
    }

    [Fact]
    public async Task RunningTheParseAgain_NeverDuplicatesRecords()
    {
        var client = await app.CreateTenantClientAsync();
        var created = await client.UploadAcceptedAsync(_files.WriteText("yob2016.txt", TestFiles.YobLines(perSex: 150)));
        await client.WaitUntilFinishedAsync(created.Id);

        // A second run of the same dataset, as a retry or a re-run after a crash would be.
        var again = await client.SubmitJobAsync("parse_dataset", new { datasetId = created.Id });
        await client.WaitForStateAsync(again.Id, "succeeded");

        var dataset = await client.GetDatasetAsync(created.Id);
        Assert.Equal("completed", dataset.State);
        Assert.Equal(300, dataset.RowsInserted);
        Assert.Equal(300, await app.RecordCountAsync(created.Id));
        var years = await client.GetFromJsonAsync<NameByYearDto>($"/v1/names/{TestFiles.NameAt(0)}?country=US&sex=F", JobClientExtensions.Json);
        Assert.Equal([new YearCountDto(2016, 10_000)], years!.Years);
    }

    [Fact]
    public async Task OtherTenantsDataset_IsNotFound_AndItsNamesAreNotCounted()
    {
        var alice = await app.CreateTenantClientAsync();
        var bob = await app.CreateTenantClientAsync();
        var created = await alice.UploadAcceptedAsync(_files.WriteText("yob2015.txt", TestFiles.YobLines(perSex: 20)));
        await alice.WaitUntilFinishedAsync(created.Id);

        using var get = await bob.GetAsync($"/v1/datasets/{created.Id}");
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        Assert.Equal("application/problem+json", get.Content.Headers.ContentType!.MediaType);
        var bobsYears = await bob.GetFromJsonAsync<NameByYearDto>($"/v1/names/{TestFiles.NameAt(0)}?country=US", JobClientExtensions.Json);
        Assert.Empty(bobsYears!.Years);
        var bobsTop = await bob.GetFromJsonAsync<TopNamesDto>("/v1/names/top?country=US&year=2015", JobClientExtensions.Json);
        Assert.Empty(bobsTop!.Names);
        // bob cannot have alice's dataset parsed under his name either
        var stolen = await bob.SubmitJobAsync("parse_dataset", new { datasetId = created.Id });
        Assert.Contains("does not exist", (await bob.WaitForStateAsync(stolen.Id, "failed")).LastError);

        var alicesYears = await alice.GetFromJsonAsync<NameByYearDto>($"/v1/names/{TestFiles.NameAt(0)}?country=US", JobClientExtensions.Json);
        Assert.Equal([new YearCountDto(2015, 19_000)], alicesYears!.Years);
    }
}

/// <summary>Bad uploads and queries get a 400 problem naming the field, and store nothing.</summary>
public sealed class DatasetValidationTests(DatasetsFactory app) : IClassFixture<DatasetsFactory>, IDisposable
{
    private readonly TestFiles _files = new();

    public void Dispose() => _files.Dispose();

    private static async Task<string[]> ProblemFieldsAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"expected 400, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        return JsonDocument.Parse(body).RootElement.GetProperty("errors").EnumerateObject().Select(p => p.Name).ToArray();
    }

    [Theory]
    [InlineData("ZZ", null, "country")]
    [InlineData(null, null, "country")]
    [InlineData("US", "fr_nat_csv", "format")]
    public async Task Upload_BadField_Is400NamingIt_AndKeepsNothing(string? country, string? format, string field)
    {
        var client = await app.CreateTenantClientAsync();
        var path = _files.WriteText("yob2020.txt", TestFiles.YobLines(perSex: 3));
        await using var db = app.CreateDbContext();
        var before = db.Datasets.Count();

        using var response = await client.UploadAsync(path, country, format);

        Assert.Equal([field], await ProblemFieldsAsync(response));
        Assert.Equal(before, db.Datasets.Count());
        Assert.DoesNotContain(app.StoredFiles(), f => f.EndsWith(".part", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Upload_WithoutFile_Is400NamingFile()
    {
        var client = await app.CreateTenantClientAsync();

        using var response = await client.UploadAsync(null, "US");

        Assert.Equal(["file"], await ProblemFieldsAsync(response));
    }

    [Fact]
    public async Task Upload_NotMultipart_Is415Problem()
    {
        var client = await app.CreateTenantClientAsync();

        using var response = await client.PostAsync("/v1/datasets", new StringContent("Olivia,F,1", Encoding.UTF8, "text/plain"));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task Upload_MultipartWithoutBoundary_Is400NamingFile()
    {
        var client = await app.CreateTenantClientAsync();
        var content = new StringContent("x");
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("multipart/form-data");

        using var response = await client.PostAsync("/v1/datasets", content);

        Assert.Equal(["file"], await ProblemFieldsAsync(response));
    }

    [Fact]
    public async Task Upload_WithoutKey_Is401()
    {
        using var anonymous = app.CreateClient();
        using var response = await anonymous.UploadAsync(_files.WriteText("yob2020.txt", ["Olivia,F,1"]), "US");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Theory]
    [InlineData("/v1/names/Olivia", "country")]
    [InlineData("/v1/names/Olivia?country=XX", "country")]
    [InlineData("/v1/names/Olivia?country=US&sex=X", "sex")]
    [InlineData("/v1/names/top?country=US", "year")]
    [InlineData("/v1/names/top?year=2020", "country")]
    [InlineData("/v1/names/top?country=US&year=2020&limit=0", "limit")]
    [InlineData("/v1/names/top?country=US&year=2020&limit=5000", "limit")]
    [InlineData("/v1/names/top?country=US&year=twenty", "year")]
    public async Task Query_BadParameter_Is400NamingIt(string url, string field)
    {
        var client = await app.CreateTenantClientAsync();

        using var response = await client.GetAsync(url);

        Assert.Contains(field, await ProblemFieldsAsync(response));
    }

    [Fact]
    public async Task Swagger_DescribesTheEndpoints()
    {
        using var client = app.CreateClient();

        var paths = JsonDocument.Parse(await client.GetStringAsync("/swagger/v1/swagger.json")).RootElement.GetProperty("paths");

        Assert.True(paths.GetProperty("/v1/datasets").GetProperty("post").GetProperty("requestBody").GetProperty("content")
            .TryGetProperty("multipart/form-data", out _));
        Assert.True(paths.TryGetProperty("/v1/datasets/{id}", out _));
        Assert.True(paths.TryGetProperty("/v1/names/{name}", out _));
        Assert.True(paths.TryGetProperty("/v1/names/top", out _));
    }

    [Fact]
    public async Task UnknownDataset_Is404()
    {
        var client = await app.CreateTenantClientAsync();

        using var response = await client.GetAsync($"/v1/datasets/{Guid.NewGuid()}");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
