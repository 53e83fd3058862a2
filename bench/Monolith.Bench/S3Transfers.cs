using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Monolith.Bench;

/// <summary>
/// Scenario 13 (issue 14): transfer_document of a 1 GiB upload kept in S3 (s3rver on 127.0.0.1, the tests' server)
/// to the loopback receiver of scenario 8, beside curl GETting the same object from the store piped to curl -T to the
/// same receiver: the same bytes path (store → one process → receiver).
/// </summary>
public sealed partial class Bench
{
    private TransferFigures? _s3Transfer;

    private async Task S3TransferAsync()
    {
        var database = await db.CreateDatabaseAsync("bench_s13_s3_transfer");
        var work = Directory.CreateTempSubdirectory("monolith-bench-s3-transfer-").FullName;
        await using var store = await S3rverProcess.StartAsync();
        await using var receiver = await Receiver.StartAsync();
        try
        {
            var file = Path.Combine(work, "document.bin");
            var sha256 = await WriteRandomFileAsync(file, TransferMegabytes);
            var size = (long)TransferMegabytes << 20;
            Line($"document: {TransferMegabytes:N0} MiB of random bytes, SHA-256 {sha256[..16]}…; store: @20minutes/s3rver 5.0.0 (Node 24) on {store.Url}, " +
                 "objects kept as plain files; receiver: as in scenario 8");

            var env = new Dictionary<string, string>(store.ServiceEnvironment())
            {
                ["Uploads__MaxBytes"] = (2L << 30).ToString(CultureInfo.InvariantCulture),
            };
            await using var api = await StartAsync(database, "api", "s13-api", env);
            await using var worker = await StartAsync(database, "worker", "s13-worker", env);
            using var http = Load.Client(api.BaseUrl);
            http.Timeout = TimeSpan.FromMinutes(10);

            var uploadId = await PresignedUploadAsync(http, file, size, sha256);
            var key = (string)(await db.RowsAsync(database, "SELECT storage_key FROM uploads WHERE id = @id", ("id", Guid.Parse(uploadId))))[0][0]!;
            var objectUrl = $"{store.Url}/{S3rverProcess.Bucket}/{key}";

            _s3Transfer = await TransferRoundsAsync(database, http, worker, receiver, uploadId, sha256, "curl GET | curl -T",
                url => CurlFromStoreAsync(objectUrl, url, size, receiver), store.ProcessId);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>
    /// The pre-signed flow, as a client does it: POST /v1/uploads?presigned=true, curl -T of the file to the URL, then
    /// POST /v1/uploads/{id}/complete (the service copies the object to the upload's key, checking its SHA-256).
    /// </summary>
    private async Task<string> PresignedUploadAsync(HttpClient http, string file, long size, string sha256)
    {
        var clock = Stopwatch.StartNew();
        using var started = await http.PostAsync("/v1/uploads?presigned=true", new StringContent(
            JsonSerializer.Serialize(new { fileName = "document.bin", sizeBytes = size, sha256, contentType = "application/octet-stream" }),
            System.Text.Encoding.UTF8, "application/json"));
        var text = await started.Content.ReadAsStringAsync();
        if (!started.IsSuccessStatusCode) throw new InvalidOperationException($"POST /v1/uploads?presigned=true answered {(int)started.StatusCode}: {text}");
        using var presigned = JsonDocument.Parse(text);
        var id = presigned.RootElement.GetProperty("id").GetString()!;
        var url = presigned.RootElement.GetProperty("put").GetProperty("url").GetString()!;
        var putSeconds = double.Parse(await RunAsync("curl",
            ["-sS", "-f", "-H", "Expect:", "-H", "Content-Type: application/octet-stream", "-T", file, url, "-o", "/dev/null", "-w", "%{time_total}"]),
            CultureInfo.InvariantCulture);
        var completeClock = Stopwatch.StartNew();
        using var completed = await http.PostAsync($"/v1/uploads/{id}/complete", null);
        var answer = await completed.Content.ReadAsStringAsync();
        if (!completed.IsSuccessStatusCode) throw new InvalidOperationException($"complete answered {(int)completed.StatusCode}: {answer}");
        Line($"pre-signed upload: curl -T to the URL {putSeconds:F2} s = {TransferMegabytes / putSeconds:F0} MB/s; complete (copy to the upload's key, SHA-256 checked) " +
             $"{completeClock.Elapsed.TotalSeconds:F2} s; {clock.Elapsed.TotalSeconds:F2} s in all");
        return id;
    }

    /// <summary>
    /// curl GETs the object from the store (SigV4-signed with the store's key pair) into a pipe, and a second curl PUTs
    /// the pipe to <paramref name="url"/> with the object's Content-Length (no chunked body, as the transfer sends);
    /// MB/s from the pipeline's wall-clock time.
    /// </summary>
    private static async Task<double> CurlFromStoreAsync(string objectUrl, string url, long size, Receiver receiver)
    {
        var clock = Stopwatch.StartNew();
        await RunAsync("bash", ["-c",
            """
            set -euo pipefail
            curl -sS -f --aws-sigv4 "aws:amz:us-east-1:s3" --user "$3:$3" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$1" |
              curl -sS -f -H "Expect:" -H "Transfer-Encoding:" -H "Content-Length: $4" -T - "$2" -o /dev/null
            """, "curl-pipe", objectUrl, url, S3rverProcess.AccessKey, size.ToString(CultureInfo.InvariantCulture)]);
        var seconds = clock.Elapsed.TotalSeconds;
        if (receiver.Received(new Uri(url).AbsolutePath) != size) throw new InvalidOperationException("The receiver did not get curl's whole upload.");
        return TransferMegabytes / seconds;
    }
}
