using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.VisualBasic.FileIO;
using Monolith.Tests.Features.Datasets;
using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Features.Imports;

/// <summary>The service with its file store under a fresh temporary directory and small batches (a test file spans several).</summary>
public sealed class ImportsFactory : MonolithFactory
{
    public const int BatchSize = 500;
    public const long MaxUploadBytes = 16L << 20;

    public string StorageRoot { get; } = Path.Combine(Path.GetTempPath(), "monolith-imports-" + Guid.NewGuid().ToString("N"));

    protected override Dictionary<string, string?> Settings => new(base.Settings)
    {
        ["Storage:Root"] = StorageRoot,
        ["Imports:BatchSize"] = BatchSize.ToString(),
        ["Imports:MaxUploadBytes"] = MaxUploadBytes.ToString(),
    };

    /// <summary>Every file the store holds (temporary ones included).</summary>
    public string[] StoredFiles() =>
        Directory.Exists(StorageRoot) ? Directory.GetFiles(StorageRoot, "*", System.IO.SearchOption.AllDirectories) : [];

    /// <summary>How many records a snapshot holds that the import wrote, read with SQL.</summary>
    public async Task<long> RecordCountAsync(string snapshot, Guid importId)
    {
        await using var connection = await TestDatabase.OpenAsync(DatabaseUrl);
        await using var command = new Npgsql.NpgsqlCommand("SELECT count(*) FROM snapshot_records WHERE snapshot = $1 AND import_id = $2", connection);
        command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = snapshot });
        command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = importId });
        return (long)(await command.ExecuteScalarAsync())!;
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing && Directory.Exists(StorageRoot)) Directory.Delete(StorageRoot, recursive: true);
    }
}

/// <summary>What import tests do over HTTP, as a user of the API would.</summary>
public static class ImportTestKit
{
    private static readonly JsonSerializerOptions Json = JobClientExtensions.Json;

    /// <summary>POST /v1/imports with the file streamed as the multipart 'file' field and the given text fields.</summary>
    public static Task<HttpResponseMessage> PostImportAsync(this HttpClient client, string? path, Dictionary<string, string> fields, string? fileName = null) =>
        client.PostAsync("/v1/imports", path, fields, fileName, "text/csv");

    public static async Task<ImportCreatedDto> ImportAcceptedAsync(this HttpClient client, string path, string snapshot, string idColumn,
        Dictionary<string, string>? more = null, string? fileName = null)
    {
        var fields = new Dictionary<string, string>(more ?? []) { ["snapshot"] = snapshot, ["idColumn"] = idColumn };
        using var response = await client.PostImportAsync(path, fields, fileName);
        await JobClientExtensions.EnsureSuccessAsync(response);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var created = (await response.Content.ReadFromJsonAsync<ImportCreatedDto>(Json))!;
        Assert.Equal($"/v1/imports/{created.Id}", response.Headers.Location!.OriginalString);
        return created;
    }

    public static async Task<ImportDto> GetImportAsync(this HttpClient client, Guid id)
    {
        using var response = await client.GetAsync($"/v1/imports/{id}");
        await JobClientExtensions.EnsureSuccessAsync(response);
        return (await response.Content.ReadFromJsonAsync<ImportDto>(Json))!;
    }

    /// <summary>Polls the import until it and its job have both finished (the job's outcome is written just after the import's).</summary>
    public static async Task<ImportDto> WaitForImportAsync(this HttpClient client, Guid id, TimeSpan? timeout = null)
    {
        var clock = Stopwatch.StartNew();
        var limit = timeout ?? TimeSpan.FromSeconds(60);
        while (true)
        {
            var import = await client.GetImportAsync(id);
            if (import.State is "completed" or "failed" or "cancelled" && import.Job?.State is "succeeded" or "failed" or "cancelled") return import;
            if (clock.Elapsed > limit)
            {
                Assert.Fail($"Import {id} is still '{import.State}' after {limit.TotalSeconds} s: {import.RowsRead} rows read, " +
                            $"job {import.Job?.State} ({import.Job?.LastError ?? "no error"}).");
            }
            await Task.Delay(25);
        }
    }

    /// <summary>
    /// The file's rows as an independent parser reads them (Microsoft.VisualBasic's TextFieldParser, RFC 4180 quoting):
    /// the header, then every data row.
    /// </summary>
    public static (string[] Header, List<string[]> Rows) ParseIndependently(string path, string delimiter = ",", Encoding? encoding = null)
    {
        using var parser = new TextFieldParser(path, encoding ?? Encoding.UTF8) { TextFieldType = FieldType.Delimited, HasFieldsEnclosedInQuotes = true, TrimWhiteSpace = false };
        parser.SetDelimiters(delimiter);
        var header = parser.ReadFields()!;
        var rows = new List<string[]>();
        while (!parser.EndOfData) rows.Add(parser.ReadFields()!);
        return (header, rows);
    }
}

public sealed record ImportCreatedDto(Guid Id, Guid JobId, string Snapshot, string FileName, long SizeBytes, string State);

public sealed record ImportDto(
    Guid Id,
    string Snapshot,
    string FileName,
    long SizeBytes,
    string IdColumn,
    string Delimiter,
    string Encoding,
    bool HasHeader,
    double MaxBadRowShare,
    string State,
    long RowsRead,
    long BytesRead,
    int ProgressPercent,
    long RecordsUpserted,
    long RowsRejected,
    List<LineErrorDto> Errors,
    string? Error,
    DatasetJobDto? Job,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? LastBatchAt,
    DateTimeOffset? FinishedAt);

public sealed record ImportPageDto(List<ImportDto> Items, string? NextCursor);
