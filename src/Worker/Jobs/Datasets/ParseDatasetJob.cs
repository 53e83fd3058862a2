using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Monolith.Domain.Datasets;
using Monolith.Domain.Persistence;
using Monolith.Worker.Engine;
using Monolith.Worker.Storage;
using Npgsql;
using NpgsqlTypes;

namespace Monolith.Worker.Jobs.Datasets;

/// <summary>
/// Parses a stored dataset file into <c>name_records</c> (docs/datasets.md); <c>reprocess_dataset</c>
/// (<see cref="ReprocessDatasetJob"/>) runs the same code again. The file is streamed (plain text,
/// gzip, or a zip of several files, told apart by their first bytes) and copied in with binary COPY in batches.
/// <para>
/// Idempotent: the dataset's old records are deleted and the new ones inserted in one transaction, which also
/// marks the dataset completed, under a row lock on the dataset; so a retry, a re-run after a crash, or a stale
/// run racing its replacement never leaves duplicates. Bad lines are counted with their line numbers; more than
/// <see cref="DatasetOptions.MaxBadLineShare"/> of them fails the dataset. A file that cannot be read as its format
/// (name, not text, corrupt archive) fails at once; database and storage errors are retried.
/// </para>
/// </summary>
public sealed class ParseDatasetJob(
    MonolithDbContext db,
    NpgsqlDataSource dataSource,
    IFileStore store,
    IOptions<DatasetOptions> options,
    ILogger<ParseDatasetJob> logger) : IJobHandler<ParseDatasetPayload>
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<object?> HandleAsync(ParseDatasetPayload payload, JobContext context, CancellationToken ct)
    {
        var dataset = await db.Datasets.AsNoTracking()
            .FirstOrDefaultAsync(d => d.Id == payload.DatasetId && d.TenantId == context.TenantId, ct)
            ?? throw new PermanentJobException($"Dataset {payload.DatasetId} does not exist (or belongs to another tenant).");
        if (dataset.State == DatasetState.Completed && dataset.JobId == context.JobId)
        {
            // This job already committed its records; only recording the outcome was lost.
            return Result(dataset.Id, dataset.RowsInserted, dataset.RowsRejected, dataset.AggregateRows);
        }

        var now = DateTimeOffset.UtcNow;
        var jobId = context.JobId;
        var started = await db.Datasets
            .Where(d => d.Id == dataset.Id && !(d.State == DatasetState.Completed && d.JobId == jobId))
            .ExecuteUpdateAsync(s => s
            .SetProperty(d => d.State, DatasetState.Processing)
            .SetProperty(d => d.JobId, context.JobId)
            .SetProperty(d => d.StartedAt, now)
            .SetProperty(d => d.FinishedAt, (DateTimeOffset?)null)
            .SetProperty(d => d.Error, (string?)null), ct);
        if (started == 0)
        {
            // Another attempt of this job completed it meanwhile (this one was presumed dead and came back).
            return Result(dataset.Id, dataset.RowsInserted, dataset.RowsRejected, dataset.AggregateRows);
        }

        var tally = new Tally();
        try
        {
            await ParseAndStoreAsync(dataset, context, tally, ct);
            logger.LogInformation("Dataset {DatasetId} parsed: {Rows} rows inserted, {Rejected} rejected",
                dataset.Id, tally.Inserted, tally.Rejected);
            return Result(dataset.Id, tally.Inserted, tally.Rejected, tally.Aggregates, tally.SkippedEntries);
        }
        catch (InvalidDataException ex)
        {
            var error = $"'{dataset.FileName}' is not a valid compressed file: {ex.Message}";
            await MarkFailedAsync(dataset.Id, context.JobId, error, tally);
            throw new PermanentJobException(error, ex);
        }
        catch (PermanentJobException ex)
        {
            await MarkFailedAsync(dataset.Id, context.JobId, ex.Message, tally);
            throw;
        }
        catch (Exception ex) when (ex is not OperationCanceledException && context.Attempt >= context.MaxAttempts)
        {
            await MarkFailedAsync(dataset.Id, context.JobId, $"Attempts exhausted; last error: {ex.Message}", tally);
            throw;
        }
    }

    private static object Result(Guid datasetId, long inserted, long rejected, long aggregates, IReadOnlyList<string>? skipped = null) =>
        new { datasetId, rowsInserted = inserted, rowsRejected = rejected, aggregateRows = aggregates, skippedEntries = skipped ?? [] };

    private async Task ParseAndStoreAsync(Dataset dataset, JobContext context, Tally tally, CancellationToken ct)
    {
        var format = DatasetFormats.Find(dataset.Format)
            ?? throw new PermanentJobException($"Unknown format '{dataset.Format}'.");

        await using var stored = await OpenSeekableAsync(dataset.StorageKey, ct);
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);

        // Serialises runs of the same dataset (a stale run racing its replacement): the second one waits, then
        // deletes what the first committed.
        await ExecuteAsync(connection, tx, "SELECT 1 FROM datasets WHERE id = $1 FOR UPDATE", ct, dataset.Id);
        await ExecuteAsync(connection, tx, "DELETE FROM name_records WHERE dataset_id = $1", ct, dataset.Id);

        var batch = new List<NameRow>(options.Value.BatchSize);
        async Task FlushAsync()
        {
            if (batch.Count == 0) return;
            await CopyAsync(connection, dataset, batch, ct);
            tally.Inserted += batch.Count;
            batch.Clear();
            ct.ThrowIfCancellationRequested();
            var percent = dataset.SizeBytes == 0 ? 99 : (int)Math.Min(99, stored.Position * 100 / dataset.SizeBytes);
            await context.ReportProgressAsync(percent,
                $"{tally.Inserted:N0} rows inserted, {tally.Rejected:N0} rejected; {stored.Position:N0} of {dataset.SizeBytes:N0} bytes read", ct);
        }

        foreach (var (fileName, content, inArchive) in Sources(dataset, stored, format, tally))
        {
            await using var _ = content;
            var parse = format.ForFile(fileName)!;
            using var text = new StreamReader(content, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 64 * 1024);
            var lines = new LineReader(text, fileName);
            var headerPending = format.Header is not null;
            long number = 0;
            while (true)
            {
                var (line, tooLong) = await lines.ReadLineAsync(ct);
                if (line is null) break;
                number++;
                if (tooLong)
                {
                    tally.Reject(number, $"The line is longer than {LineReader.MaxLineLength} characters.", inArchive ? fileName : null);
                    continue;
                }
                if (string.IsNullOrWhiteSpace(line)) continue;
                if (headerPending)
                {
                    if (!line.Trim().Equals(format.Header, StringComparison.OrdinalIgnoreCase))
                    {
                        throw new PermanentJobException($"'{fileName}' does not start with the header of format {format.Name} ({format.Header}).");
                    }
                    headerPending = false;
                    continue;
                }
                if (parse(line, out var row, out var reason))
                {
                    batch.Add(row);
                    if (row.Kind == NameRecordKinds.Aggregate) tally.Aggregates++;
                }
                else tally.Reject(number, reason, inArchive ? fileName : null);
                if (batch.Count >= options.Value.BatchSize) await FlushAsync();
            }
        }
        await FlushAsync();

        var total = tally.Inserted + tally.Rejected;
        if (total == 0) throw new PermanentJobException($"'{dataset.FileName}' holds no records.");
        if (tally.Rejected > options.Value.MaxBadLineShare * total)
        {
            throw new PermanentJobException(
                $"{tally.Rejected:N0} of {total:N0} lines are bad, more than the {options.Value.MaxBadLineShare:P1} allowed; nothing was kept.");
        }

        await SupersedeAsync(connection, tx, dataset, ct);
        await using (var complete = new NpgsqlCommand("""
            UPDATE datasets SET state = 'completed', rows_inserted = $2, rows_rejected = $3, first_errors = $4::jsonb,
                                aggregate_rows = $5, error = NULL, finished_at = now()
            WHERE id = $1
            """, connection, tx))
        {
            complete.Parameters.Add(new NpgsqlParameter { Value = dataset.Id });
            complete.Parameters.Add(new NpgsqlParameter { Value = tally.Inserted });
            complete.Parameters.Add(new NpgsqlParameter { Value = tally.Rejected });
            complete.Parameters.Add(new NpgsqlParameter { Value = JsonSerializer.Serialize(tally.Errors, Json) });
            complete.Parameters.Add(new NpgsqlParameter { Value = tally.Aggregates });
            if (await complete.ExecuteNonQueryAsync(ct) == 0)
            {
                // DELETE /v1/datasets/{id} removed it meanwhile: keep nothing (the transaction rolls back).
                throw new PermanentJobException($"Dataset {dataset.Id} was deleted while it was being parsed.");
            }
        }
        ct.ThrowIfCancellationRequested();
        await tx.CommitAsync(ct);
        await context.ReportProgressAsync(100, $"{tally.Inserted:N0} rows inserted, {tally.Rejected:N0} rejected", ct);
    }

    /// <summary>
    /// One dataset per scope: the dataset completing now holds every (country, region, year) it has rows for, so the
    /// tenant's older records of those scopes are deleted in the same transaction, and their datasets record how
    /// many rows were replaced and by which dataset. A per-tenant-and-country transaction lock makes two parses that
    /// finish at once take turns, so the later one always replaces the earlier (never both kept, never both gone).
    /// </summary>
    private static async Task SupersedeAsync(NpgsqlConnection connection, NpgsqlTransaction tx, Dataset dataset, CancellationToken ct)
    {
        // A statement of its own, before the delete: the delete's snapshot must be taken after the lock is held.
        await ExecuteAsync(connection, tx, "SELECT pg_advisory_xact_lock(hashtextextended('datasets:' || $1::text || ':' || $2, 0))",
            ct, dataset.TenantId, dataset.Country);
        await using var supersede = new NpgsqlCommand("""
            WITH scope AS (
                SELECT DISTINCT region, year FROM name_records WHERE dataset_id = $1),
            replaced AS (
                DELETE FROM name_records r USING scope s
                WHERE r.tenant_id = $2 AND r.country = $3 AND r.dataset_id <> $1
                  AND r.region IS NOT DISTINCT FROM s.region AND r.year IS NOT DISTINCT FROM s.year
                RETURNING r.dataset_id),
            counted AS (
                SELECT dataset_id, count(*) AS n FROM replaced GROUP BY dataset_id)
            UPDATE datasets d SET rows_superseded = d.rows_superseded + c.n, superseded_by = $1
            FROM counted c WHERE d.id = c.dataset_id
            """, connection, tx);
        supersede.Parameters.Add(new NpgsqlParameter { Value = dataset.Id });
        supersede.Parameters.Add(new NpgsqlParameter { Value = dataset.TenantId });
        supersede.Parameters.Add(new NpgsqlParameter { Value = dataset.Country });
        await supersede.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// The files to parse: the stored file itself, the content of a gzip file, or each file of a zip whose name
    /// fits the format (others, such as a read-me, are skipped and listed in the result).
    /// </summary>
    private static IEnumerable<(string FileName, Stream Content, bool InArchive)> Sources(
        Dataset dataset, Stream stored, DatasetFormat format, Tally tally)
    {
        Span<byte> magic = stackalloc byte[4];
        var read = stored.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
        stored.Position = 0;

        if (read >= 2 && magic[0] == 0x1F && magic[1] == 0x8B)
        {
            // yob2020.txt.gz holds yob2020.txt; a gzip file uploaded under its inner name is read as that.
            var inner = dataset.FileName.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? dataset.FileName[..^3] : dataset.FileName;
            RequireName(format, inner, dataset.FileName);
            yield return (inner, new GZipStream(stored, CompressionMode.Decompress, leaveOpen: true), false);
        }
        else if (read == 4 && magic[0] == 0x50 && magic[1] == 0x4B && magic[2] == 0x03 && magic[3] == 0x04)
        {
            using var zip = new ZipArchive(stored, ZipArchiveMode.Read, leaveOpen: true);
            var entries = zip.Entries.Where(e => !e.FullName.EndsWith('/')).ToList();
            var matching = entries.Where(e => format.ForFile(e.Name) is not null).ToList();
            tally.SkippedEntries.AddRange(entries.Except(matching).Select(e => e.FullName));
            if (matching.Count == 0)
            {
                throw new PermanentJobException(
                    $"The zip '{dataset.FileName}' holds no file whose name fits format {format.Name} ({format.Description}).");
            }
            foreach (var entry in matching) yield return (entry.Name, entry.Open(), true);
        }
        else
        {
            RequireName(format, dataset.FileName, dataset.FileName);
            yield return (dataset.FileName, new NonClosingStream(stored), false);
        }
    }

    private static void RequireName(DatasetFormat format, string fileName, string uploaded)
    {
        if (format.ForFile(fileName) is null)
        {
            throw new PermanentJobException($"The file name '{uploaded}' does not fit format {format.Name} ({format.Description}).");
        }
    }

    /// <summary>The stored file, seekable (a zip needs it, progress reads the position); spooled to a temporary file if the store streams.</summary>
    private async Task<Stream> OpenSeekableAsync(string key, CancellationToken ct)
    {
        Stream stream;
        try
        {
            stream = await store.OpenReadAsync(key, ct);
        }
        catch (StoredFileNotFoundException ex)
        {
            throw new PermanentJobException("The uploaded file is no longer stored.", ex);
        }
        if (stream.CanSeek) return stream;

        var spool = new FileStream(Path.GetTempFileName(), FileMode.Create, FileAccess.ReadWrite, FileShare.None, 81_920,
            FileOptions.Asynchronous | FileOptions.DeleteOnClose);
        await using (stream) await stream.CopyToAsync(spool, ct);
        spool.Position = 0;
        return spool;
    }

    private static async Task CopyAsync(NpgsqlConnection connection, Dataset dataset, List<NameRow> rows, CancellationToken ct)
    {
        await using var copy = await connection.BeginBinaryImportAsync(
            "COPY name_records (dataset_id, tenant_id, country, region, year, sex, name, count, kind) FROM STDIN (FORMAT BINARY)", ct);
        foreach (var row in rows)
        {
            await copy.StartRowAsync(ct);
            await copy.WriteAsync(dataset.Id, NpgsqlDbType.Uuid, ct);
            await copy.WriteAsync(dataset.TenantId, NpgsqlDbType.Uuid, ct);
            await copy.WriteAsync(dataset.Country, NpgsqlDbType.Varchar, ct);
            if (row.Region is { } region) await copy.WriteAsync(region, NpgsqlDbType.Varchar, ct);
            else await copy.WriteNullAsync(ct);
            if (row.Year is { } year) await copy.WriteAsync(year, NpgsqlDbType.Integer, ct);
            else await copy.WriteNullAsync(ct);
            await copy.WriteAsync(row.Sex, NpgsqlDbType.Varchar, ct);
            await copy.WriteAsync(row.Name, NpgsqlDbType.Varchar, ct);
            await copy.WriteAsync(row.Count, NpgsqlDbType.Integer, ct);
            await copy.WriteAsync(row.Kind, NpgsqlDbType.Varchar, ct);
        }
        await copy.CompleteAsync(ct);
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string sql, CancellationToken ct, params object[] values)
    {
        await using var command = new NpgsqlCommand(sql, connection, tx);
        foreach (var value in values) command.Parameters.Add(new NpgsqlParameter { Value = value });
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// Records why the dataset failed (with the bad lines found so far) and, in the same statement, deletes records
    /// an earlier run left (a failed reprocess keeps none: records exist exactly when the dataset is completed);
    /// runs even when the job is being stopped.
    /// </summary>
    private async Task MarkFailedAsync(Guid datasetId, Guid jobId, string error, Tally tally)
    {
        var errors = JsonSerializer.Serialize(tally.Errors, Json);
        var clipped = error.Length <= 2000 ? error : error[..2000];
        await db.Database.ExecuteSqlAsync($"""
            WITH failed AS (
                UPDATE datasets SET state = 'failed', error = {clipped}, rows_inserted = 0, rows_rejected = {tally.Rejected},
                                    aggregate_rows = 0, first_errors = {errors}::jsonb, finished_at = now()
                WHERE id = {datasetId} AND NOT (state = 'completed' AND job_id = {jobId})
                RETURNING id)
            DELETE FROM name_records WHERE dataset_id IN (SELECT id FROM failed)
            """, CancellationToken.None);
    }

    /// <summary>What a parse found so far.</summary>
    private sealed class Tally
    {
        public long Inserted;
        public long Rejected;
        public long Aggregates;
        public List<DatasetLineError> Errors { get; } = [];
        public List<string> SkippedEntries { get; } = [];

        public void Reject(long line, string reason, string? file)
        {
            Rejected++;
            if (Errors.Count < Dataset.MaxErrorsKept) Errors.Add(new DatasetLineError(line, reason, file));
        }
    }

    /// <summary>Lets a reader be disposed without closing the stored file underneath (its position still counts progress).</summary>
    private sealed class NonClosingStream(Stream inner) : Stream
    {
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) => inner.ReadAsync(buffer, ct);
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) => inner.ReadAsync(buffer, offset, count, ct);
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
