using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using Monolith.Tests.Infrastructure;
using Npgsql;

namespace Monolith.Tests.Features.Datasets;

/// <summary>
/// The service with production's upload limit and limits, except a small decompressed size (4 MiB), so that the
/// size limit is reached by a file small enough to make quickly.
/// </summary>
public sealed class DatasetLimitsFactory : DatasetsFactory
{
    public const long MaxDecompressedBytes = 4L << 20;

    protected override Dictionary<string, string?> Settings => new(base.Settings)
    {
        ["Datasets:MaxUploadBytes"] = (1L << 30).ToString(),
        ["Datasets:BatchSize"] = "1000",
        ["Datasets:MaxDecompressedBytes"] = MaxDecompressedBytes.ToString(),
    };
}

/// <summary>
/// Hostile archives: a gzip or zip bomb, a file that decompresses past the size limit, a zip of very many entries.
/// Each fails within seconds with an error naming the setting it passed, at the first attempt (never retried), and
/// keeps no rows; a zip's skipped entries are listed only up to a cap, with storable names.
/// </summary>
public sealed class DatasetLimitsTests(DatasetLimitsFactory app) : IClassFixture<DatasetLimitsFactory>, IDisposable
{
    private readonly TestFiles _files = new();

    public void Dispose() => _files.Dispose();

    /// <summary>1 MiB of one valid yob line repeated: each line would be a row.</summary>
    private static byte[] OneMebibyteOfRows()
    {
        var line = Encoding.ASCII.GetBytes("Aab,F,5\r\n");
        var chunk = new byte[1 << 20];
        for (var i = 0; i + line.Length <= chunk.Length; i += line.Length) line.CopyTo(chunk, i);
        return chunk;
    }

    /// <summary>Uploads the file and expects: failed within 30 s, the error naming <paramref name="setting"/>, one attempt, no rows.</summary>
    private async Task<DatasetDto> ExpectFailsFastAsync(string path, string setting, string? format = null)
    {
        var client = await app.CreateTenantClientAsync();
        var created = await client.UploadAcceptedAsync(path, "US", format);
        var clock = Stopwatch.StartNew();
        var dataset = await client.WaitUntilFinishedAsync(created.Id, TimeSpan.FromSeconds(60));
        var elapsed = clock.Elapsed;

        Assert.Equal("failed", dataset.State);
        Assert.Contains(setting, dataset.Error);
        Assert.True(elapsed < TimeSpan.FromSeconds(30), $"took {elapsed.TotalSeconds:F1} s");
        var job = await client.WaitForStateAsync(created.JobId, "failed");
        Assert.Single(job.Attempts); // permanent: not retried
        Assert.Contains(setting, job.LastError);
        Assert.Equal(0, dataset.RowsInserted);
        Assert.Equal(0, await app.RecordCountAsync(created.Id));
        return dataset;
    }

    [Fact]
    public async Task GzipBomb_Of10GiB_FailsWithinSeconds_NamingTheRatioLimit()
    {
        // 10,240 gzip members of 1 MiB of rows each (a valid multi-member gzip): 10 GiB from about 21 MB.
        var member = new MemoryStream();
        await using (var gzip = new GZipStream(member, CompressionLevel.SmallestSize, leaveOpen: true)) gzip.Write(OneMebibyteOfRows());
        var path = Path.Combine(_files.Directory, "yob2020.txt.gz");
        await using (var file = File.Create(path))
        {
            for (var i = 0; i < 10_240; i++) file.Write(member.GetBuffer(), 0, (int)member.Length);
        }

        await ExpectFailsFastAsync(path, "Datasets__MaxCompressionRatio");
    }

    [Fact]
    public async Task ZipBomb_FailsWithinSeconds_NamingTheRatioLimit()
    {
        var path = Path.Combine(_files.Directory, "names.zip");
        var chunk = OneMebibyteOfRows();
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
        await using (var entry = zip.CreateEntry("yob2020.txt", CompressionLevel.SmallestSize).Open())
        {
            for (var i = 0; i < 512; i++) entry.Write(chunk); // 512 MiB in about 1 MB
        }

        await ExpectFailsFastAsync(path, "Datasets__MaxCompressionRatio");
    }

    [Fact]
    public async Task FilePastTheDecompressedSizeLimit_Fails_NamingIt()
    {
        // Ordinary-looking compression (random letters barely compress), but more bytes inside than allowed.
        var random = new Random(7);
        var path = Path.Combine(_files.Directory, "yob2020.txt.gz");
        await using (var file = File.Create(path))
        await using (var gzip = new GZipStream(file, CompressionLevel.Fastest))
        await using (var writer = new StreamWriter(gzip))
        {
            var line = new char[80];
            for (long written = 0; written < DatasetLimitsFactory.MaxDecompressedBytes * 3 / 2; written += line.Length + 2)
            {
                for (var i = 0; i < line.Length; i++) line[i] = (char)('a' + random.Next(26));
                writer.Write(line);
                writer.Write("\r\n");
            }
        }

        await ExpectFailsFastAsync(path, "Datasets__MaxDecompressedBytes");
    }

    [Fact]
    public async Task ZipOfVeryManyEntries_FailsWithinSeconds_NamingTheEntryLimit()
    {
        var path = Path.Combine(_files.Directory, "names.zip");
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
        {
            for (var i = 0; i < 100_000; i++) zip.CreateEntry($"n{i}.txt", CompressionLevel.NoCompression); // past 65,535: a zip64 directory
        }

        await ExpectFailsFastAsync(path, "Datasets__MaxZipEntries");
    }

    [Fact]
    public async Task ZipWhoseDirectoryHoldsMoreEntriesThanItDeclares_FailsAsCorrupt()
    {
        var path = _files.WriteZip("names.zip",
            ("yob2019.txt", TestFiles.YobLines(perSex: 5)), ("yob2020.txt", TestFiles.YobLines(perSex: 5)), ("yob2021.txt", TestFiles.YobLines(perSex: 5)));
        var bytes = await File.ReadAllBytesAsync(path);
        var end = bytes.Length - 22; // the end record (no archive comment)
        Assert.Equal([0x50, 0x4B, 0x05, 0x06], bytes[end..(end + 4)]);
        bytes[end + 8] = 1; // entries on this disk, and in all: 1 instead of 3
        bytes[end + 10] = 1;
        await File.WriteAllBytesAsync(path, bytes);
        var client = await app.CreateTenantClientAsync();

        var created = await client.UploadAcceptedAsync(path);
        var dataset = await client.WaitUntilFinishedAsync(created.Id);

        Assert.Equal("failed", dataset.State);
        Assert.Contains("central directory", dataset.Error, StringComparison.OrdinalIgnoreCase);
        Assert.Single((await client.WaitForStateAsync(created.JobId, "failed")).Attempts);
        Assert.Equal(0, await app.RecordCountAsync(created.Id));
    }

    [Fact]
    public async Task SkippedEntries_AreListedUpToACap_WithACount_AndStorableNames()
    {
        var client = await app.CreateTenantClientAsync();
        var path = Path.Combine(_files.Directory, "names.zip");
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
        {
            zip.CreateEntry("read\0me.txt"); // a NUL in an entry name: outside text, shown in the result
            for (var i = 0; i < 500; i++) zip.CreateEntry($"notes/n{i}.txt");
            await using var writer = new StreamWriter(zip.CreateEntry("yob2020.txt").Open());
            foreach (var line in TestFiles.YobLines(perSex: 50)) await writer.WriteAsync(line + "\r\n");
        }

        var created = await client.UploadAcceptedAsync(path);
        var dataset = await client.WaitUntilFinishedAsync(created.Id);

        Assert.Equal(("completed", 100L), (dataset.State, dataset.RowsInserted));
        var job = await client.WaitForStateAsync(created.JobId, "succeeded");
        var result = job.Result!.Value;
        var listed = result.GetProperty("skippedEntries").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Equal(20, listed.Count);
        Assert.Equal("read\uFFFDme.txt", listed[0]);
        Assert.Equal("notes/n0.txt", listed[1]);
        Assert.Equal(501, result.GetProperty("skippedEntryCount").GetInt64());
    }
}
