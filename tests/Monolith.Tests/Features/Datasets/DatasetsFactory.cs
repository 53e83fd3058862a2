using System.Diagnostics;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Monolith.Tests.Infrastructure;
using Npgsql;

namespace Monolith.Tests.Features.Datasets;

/// <summary>
/// The service with its file store under a fresh temporary directory, a small upload limit (so the limit test
/// need not send a gigabyte) and small COPY batches (so a test file spans several batches). Subclasses change
/// settings for tests of other sizes.
/// </summary>
public class DatasetsFactory : MonolithFactory
{
    public const long MaxUploadBytes = 256 * 1024;

    public string StorageRoot { get; } = Path.Combine(Path.GetTempPath(), "monolith-datasets-" + Guid.NewGuid().ToString("N"));

    protected override Dictionary<string, string?> Settings => new(base.Settings)
    {
        ["Storage:Root"] = StorageRoot,
        ["Datasets:MaxUploadBytes"] = MaxUploadBytes.ToString(),
        ["Datasets:BatchSize"] = "100",
    };

    /// <summary>Every file the store holds (temporary ones included).</summary>
    public string[] StoredFiles() =>
        Directory.Exists(StorageRoot) ? Directory.GetFiles(StorageRoot, "*", SearchOption.AllDirectories) : [];

    /// <summary>How many name records a dataset holds, read with SQL.</summary>
    public async Task<long> RecordCountAsync(Guid datasetId)
    {
        await using var connection = await TestDatabase.OpenAsync(DatabaseUrl);
        await using var command = new NpgsqlCommand("SELECT count(*) FROM name_records WHERE dataset_id = $1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = datasetId });
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>WebApplicationFactory's disposal (sync or async) ends here: the stored files go with the host.</summary>
    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing && Directory.Exists(StorageRoot)) Directory.Delete(StorageRoot, recursive: true);
    }
}

/// <summary>Real files written to disk by the tests, in the public formats.</summary>
public sealed class TestFiles : IDisposable
{
    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("monolith-files-").FullName;

    /// <summary>The i-th generated name: letters only (Aab, Aac, …), distinct for every i.</summary>
    public static string NameAt(int i)
    {
        var letters = new StringBuilder();
        for (var n = i + 26 * 26; n > 0; n /= 26) letters.Insert(0, (char)('a' + n % 26));
        return char.ToUpperInvariant(letters[0]) + letters.ToString(1, letters.Length - 1);
    }

    /// <summary>
    /// yob lines as the public files have them: <paramref name="perSex"/> F names then as many M names, counts
    /// strictly falling (F: 10,000 − i, M: 9,000 − i), so every ranking is unambiguous.
    /// </summary>
    public static List<string> YobLines(int perSex) =>
    [
        .. Enumerable.Range(0, perSex).Select(i => $"{NameAt(i)},F,{10_000 - i}"),
        .. Enumerable.Range(0, perSex).Select(i => $"{NameAt(i)},M,{9_000 - i}"),
    ];

    public string WriteText(string fileName, IEnumerable<string> lines)
    {
        var path = Path.Combine(Directory, fileName);
        File.WriteAllText(path, string.Join("\r\n", lines) + "\r\n"); // the public files end lines with CRLF
        return path;
    }

    public string WriteBytes(string fileName, byte[] bytes)
    {
        var path = Path.Combine(Directory, fileName);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    public string WriteGzip(string fileName, IEnumerable<string> lines)
    {
        var path = Path.Combine(Directory, fileName);
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Optimal);
        using var writer = new StreamWriter(gzip);
        foreach (var line in lines) writer.Write(line + "\r\n");
        return path;
    }

    public string WriteZip(string fileName, params (string Name, IEnumerable<string> Lines)[] entries)
    {
        var path = Path.Combine(Directory, fileName);
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        foreach (var (name, lines) in entries)
        {
            using var writer = new StreamWriter(zip.CreateEntry(name).Open());
            foreach (var line in lines) writer.Write(line + "\r\n");
        }
        return path;
    }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}

public static class DatasetClientExtensions
{
    /// <summary>POST /v1/datasets with the file on disk streamed as the multipart 'file' field.</summary>
    public static Task<HttpResponseMessage> UploadAsync(this HttpClient client, string? path, string? country, string? format = null,
        string? fileName = null)
    {
        var fields = new Dictionary<string, string>();
        if (country is not null) fields["country"] = country;
        if (format is not null) fields["format"] = format;
        return client.PostAsync("/v1/datasets", path, fields, fileName);
    }

    public static async Task<DatasetCreatedDto> UploadAcceptedAsync(this HttpClient client, string path, string country = "US", string? format = null)
    {
        using var response = await client.UploadAsync(path, country, format);
        await JobClientExtensions.EnsureSuccessAsync(response);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var created = (await response.Content.ReadFromJsonAsync<DatasetCreatedDto>(JobClientExtensions.Json))!;
        Assert.Equal($"/v1/datasets/{created.Id}", response.Headers.Location!.OriginalString);
        return created;
    }

    public static async Task<DatasetDto> GetDatasetAsync(this HttpClient client, Guid id)
    {
        using var response = await client.GetAsync($"/v1/datasets/{id}");
        await JobClientExtensions.EnsureSuccessAsync(response);
        return (await response.Content.ReadFromJsonAsync<DatasetDto>(JobClientExtensions.Json))!;
    }

    /// <summary>Polls the dataset until it is completed or failed.</summary>
    public static async Task<DatasetDto> WaitUntilFinishedAsync(this HttpClient client, Guid id, TimeSpan? timeout = null)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var dataset = await client.GetDatasetAsync(id);
            if (dataset.State is "completed" or "failed") return dataset;
            if (clock.Elapsed > (timeout ?? TimeSpan.FromSeconds(30)))
            {
                Assert.Fail($"Dataset {id} is still '{dataset.State}' (job: {dataset.Job?.State}, {dataset.Job?.LastError}).");
            }
            await Task.Delay(25);
        }
    }
}

public sealed record DatasetCreatedDto(Guid Id, Guid JobId, string Country, string Format, string FileName, long SizeBytes, string State);

public sealed record DatasetDto(
    Guid Id,
    string Country,
    string Format,
    string FileName,
    long SizeBytes,
    string State,
    long RowsInserted,
    long RowsRejected,
    List<LineErrorDto> Errors,
    string? Error,
    DatasetJobDto? Job,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    long AggregateRows = 0,
    long RowsSuperseded = 0,
    Guid? SupersededBy = null);

public sealed record DatasetPageDto(List<DatasetDto> Items, string? NextCursor);

public sealed record LineErrorDto(long Line, string Reason, string? File);

public sealed record DatasetJobDto(Guid Id, string State, int Attempt, int MaxAttempts, ProgressDto? Progress, string? LastError);

public sealed record NameByYearDto(string Name, string Country, string? Sex, long Total, List<YearCountDto> Years);

public sealed record YearCountDto(int Year, long Count);

public sealed record TopNamesDto(string Country, int Year, string? Sex, List<NameCountDto> Names);

public sealed record NameCountDto(string Name, string Sex, int Count);
