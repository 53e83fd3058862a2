using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Monolith.Domain.Datasets;
using Monolith.Domain.Imports;
using Monolith.Domain.Persistence;
using Monolith.Domain.Text;
using Monolith.Worker.Engine;
using Monolith.Worker.Jobs.Datasets;
using Monolith.Worker.Storage;
using Npgsql;
using NpgsqlTypes;

namespace Monolith.Worker.Jobs.Imports;

/// <summary>
/// Upserts a stored CSV/TSV file's rows into a snapshot (docs/imports.md). The file is streamed (plain, gzip, or each
/// file of a zip: <see cref="StoredContent"/>, under the dataset decompression limits) and parsed (<see cref="CsvRows"/>);
/// each good row becomes a JSON object keyed by the header's names (<c>c1</c>…<c>cN</c> without a header) under its id
/// column's value. Bad rows (another column count, invalid UTF-8, text PostgreSQL cannot store, no id, an id already
/// read in this file) are counted with their line numbers.
/// <para>
/// Every <see cref="ImportOptions.BatchSize"/> rows, ONE transaction upserts the batch and advances the checkpoint (the
/// data rows read so far) and the counters, fenced as syncs are: this attempt's lease (locked <c>FOR SHARE</c> until
/// commit) and the checkpoint this run last saw. A resumed run (a retry, a crash's recovery) reads the file from its
/// start again, to know the ids and bad rows before the checkpoint, but writes only the rows after it; upserts make a
/// replayed row harmless anyway. The last commit marks the import completed, unless more than its
/// <see cref="Import.MaxBadRowShare"/> of the rows were bad: then the job fails (what was committed stays).
/// </para>
/// </summary>
public sealed class ImportRecordsJob(
    MonolithDbContext db,
    NpgsqlDataSource dataSource,
    IFileStore store,
    IOptions<ImportOptions> options,
    IOptions<DatasetOptions> archiveLimits,
    ILogger<ImportRecordsJob> logger) : IJobHandler<ImportRecordsPayload>
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Longest id kept (the <c>external_id</c> column).</summary>
    public const int MaxIdLength = 500;

    public async Task<object?> HandleAsync(ImportRecordsPayload payload, JobContext context, CancellationToken ct)
    {
        db.Database.SetCommandTimeout(TimeSpan.Zero); // bounded by ct (the job's timeout and cancellation), not by the driver
        var import = await db.Imports.AsNoTracking()
            .FirstOrDefaultAsync(i => i.Id == payload.ImportId && i.TenantId == context.TenantId, ct)
            ?? throw new PermanentJobException($"Import {payload.ImportId} does not exist (or belongs to another tenant).");
        if (import.State == ImportState.Completed && import.JobId == context.JobId) return Result(import); // only the outcome was lost
        if (import.JobId != context.JobId) throw new PermanentJobException($"Import {import.Id} was reprocessed by another job.");

        var jobId = context.JobId;
        var started = await db.Imports.Where(i => i.Id == import.Id && i.JobId == jobId && i.State != ImportState.Completed)
            .ExecuteUpdateAsync(s => s
                .SetProperty(x => x.State, ImportState.Running)
                .SetProperty(x => x.StartedAt, x => x.StartedAt ?? DateTimeOffset.UtcNow)
                .SetProperty(x => x.FinishedAt, (DateTimeOffset?)null)
                .SetProperty(x => x.Error, (string?)null), ct);
        if (started == 0) return Result(import);

        // A failure (permanent, or on the last attempt) and a cancel end the job: ImportJobEnded writes that on the row.
        var tally = await RunAsync(import, context, ct);
        logger.LogInformation("Import {ImportId} completed: {Records} records upserted, {Rejected} rows rejected", import.Id, tally.Good, tally.Rejected);
        return new { importId = import.Id, rowsRead = tally.Rows, recordsUpserted = tally.Good, rowsRejected = tally.Rejected };
    }

    private static object Result(Import import) =>
        new { importId = import.Id, rowsRead = import.CheckpointRows, recordsUpserted = import.RecordsUpserted, rowsRejected = import.RowsRejected };

    private async Task<Tally> RunAsync(Import import, JobContext context, CancellationToken ct)
    {
        var limits = options.Value;
        var delimiter = import.Delimiter[0];
        var tally = new Tally();
        var checkpoint = import.CheckpointRows; // rows up to here were committed by an earlier run: read, not written
        var batch = new List<(string Id, string Json)>();
        var json = new RecordJson();
        long pending = 0; // rows after the checkpoint read since the last commit
        // The batch being committed while the next one is read (one at a time, in order: each commit is fenced by the
        // checkpoint the one before it wrote).
        Task<long>? committing = null;

        await using var stored = await StoredContent.OpenSeekableAsync(store, import.StorageKey, ct);
        var parts = StoredContent.Read(stored, import.FileName, archiveLimits.Value, entry => !IsHidden(entry.FullName));
        var anyPart = false;
        try
        {
            foreach (var part in parts)
            {
                anyPart = true;
                await using var _ = part.Content;
                var file = part.InArchive ? StorableText.Sanitize(part.FullName) : null;
                using var rows = new CsvRows(part.Content, delimiter, import.Encoding);
                var columns = (string[]?)null;
                var idIndex = -1;
                while (rows.Next() is { } row)
                {
                    if (columns is null)
                    {
                        (columns, idIndex) = Columns(import, row, part.FileName, limits.MaxColumns);
                        if (import.HasHeader) continue;
                    }
                    tally.Rows++;
                    var reason = Judge(import, row, columns, idIndex, tally);
                    if (reason is not null) tally.Reject(row.Line, reason, file);
                    else
                    {
                        tally.Good++;
                        if (tally.Rows > checkpoint) batch.Add((row.Fields[idIndex], json.Of(columns, row.Fields)));
                    }
                    if (tally.Rows > checkpoint && ++pending >= limits.BatchSize)
                    {
                        if (committing is not null)
                        {
                            checkpoint = await committing;
                            await ReportAsync(import, context, tally, stored.Position, ct);
                        }
                        committing = CommitAsync(import, context, checkpoint, tally.Freeze(batch, stored.Position), complete: false, ct);
                        batch = [];
                        pending = 0;
                    }
                }
            }
            if (committing is not null) checkpoint = await committing;
        }
        catch (InvalidDataException ex)
        {
            await QuietlyAsync(committing);
            throw new PermanentJobException($"'{import.FileName}' is not a valid compressed file: {ex.Message}", ex);
        }
        catch
        {
            await QuietlyAsync(committing); // what failed is what the job reports; a commit in flight ends first
            throw;
        }
        if (!anyPart) throw new PermanentJobException($"The zip '{import.FileName}' holds no file.");
        if (tally.Rows == 0) throw new PermanentJobException($"'{import.FileName}' holds no rows.");

        if (tally.Rejected > import.MaxBadRowShare * tally.Rows)
        {
            // The bad rows are kept on the row for the client to see; the failure itself is written when the job ends.
            await RecordBadRowsAsync(import, context, tally, ct);
            throw new PermanentJobException(
                $"{tally.Rejected:N0} of {tally.Rows:N0} rows are bad, more than the {import.MaxBadRowShare:P1} allowed (maxBadRowShare); " +
                $"the {tally.Good - batch.Count:N0} records committed before the end stay.");
        }
        await CommitAsync(import, context, checkpoint, tally.Freeze(batch, stored.Position), complete: true, ct);
        await context.ReportProgressAsync(100, $"{tally.Rows:N0} rows read: {tally.Good:N0} records upserted, {tally.Rejected:N0} rejected", ct);
        return tally;
    }

    /// <summary>Waits for a commit still in flight when reading failed, leaving its own failure (if any) unreported.</summary>
    private static async Task QuietlyAsync(Task<long>? committing)
    {
        if (committing is null) return;
        try
        {
            await committing;
        }
        catch
        {
            // The reading failure is the one the job reports.
        }
    }

    /// <summary>A zip entry that is no data: macOS resource forks and hidden files.</summary>
    private static bool IsHidden(string fullName) =>
        fullName.StartsWith("__MACOSX/", StringComparison.Ordinal) || Path.GetFileName(fullName.Replace('\\', '/')).StartsWith('.');

    /// <summary>
    /// The columns' names and the id column's index, from the first row of a file: its header, or <c>c1</c>…<c>cN</c>
    /// for as many fields as it has. A header that cannot name records, or an id column it lacks, fails the import.
    /// </summary>
    private static (string[] Columns, int IdIndex) Columns(Import import, CsvRow first, string fileName, int maxColumns)
    {
        if (first.Fields.Length > maxColumns)
        {
            throw new PermanentJobException($"'{fileName}' has {first.Fields.Length:N0} columns, more than the {maxColumns:N0} allowed (Imports__MaxColumns).");
        }
        if (!import.HasHeader)
        {
            var columns = Enumerable.Range(1, first.Fields.Length).Select(i => $"c{i}").ToArray();
            var position = ImportRules.PositionOf(import.IdColumn) ?? 0;
            if (position < 1 || position > columns.Length)
            {
                throw new PermanentJobException($"idColumn '{import.IdColumn}' is not a column: the first row of '{fileName}' has {columns.Length} (c1…c{columns.Length}).");
            }
            return (columns, position - 1);
        }
        var names = first.Fields.Select(f => f.Trim()).ToArray();
        for (var i = 0; i < names.Length; i++)
        {
            if (names[i].Length == 0) throw new PermanentJobException($"Column {i + 1} of the header of '{fileName}' has no name.");
            if (!StorableText.IsStorable(names[i]) || names[i].Contains('\uFFFD'))
            {
                throw new PermanentJobException($"Column {i + 1} of the header of '{fileName}' is not text in {import.Encoding}.");
            }
            if (Array.IndexOf(names, names[i], 0, i) >= 0) throw new PermanentJobException($"The header of '{fileName}' names the column '{Clip(names[i])}' twice.");
        }
        var idIndex = Array.IndexOf(names, import.IdColumn);
        if (idIndex < 0)
        {
            throw new PermanentJobException(
                $"idColumn '{Clip(import.IdColumn)}' is not in the header of '{fileName}' ({Clip(string.Join(", ", names), 300)}).");
        }
        return (names, idIndex);
    }

    /// <summary>Why a data row is bad, or null when it is a record (its id then counts as read).</summary>
    private static string? Judge(Import import, CsvRow row, string[] columns, int idIndex, Tally tally)
    {
        if (row.Fields.Length != columns.Length) return $"Expected {columns.Length} fields, found {row.Fields.Length}.";
        if (import.Encoding == ImportEncodings.Utf8 && CsvRows.HasBadEncoding(row)) return "Not valid UTF-8 (for a Latin-1 file, send encoding=latin1).";
        if (row.Fields.Any(f => !StorableText.IsStorable(f))) return "Holds a NUL character, which cannot be stored.";
        var id = row.Fields[idIndex];
        if (string.IsNullOrWhiteSpace(id)) return $"No id (the {Clip(import.IdColumn)} column is empty).";
        if (id.Length > MaxIdLength) return $"The id is longer than {MaxIdLength} characters.";
        if (!tally.Ids.Add(id)) return $"Duplicate id '{Clip(id)}': an earlier row of this file has it.";
        return null;
    }

    /// <summary>
    /// Writes records: a JSON object of a row's fields, as text, under the columns' names. One writer and buffer serve
    /// every row of a run; only what JSON requires is escaped (the text goes to PostgreSQL, never into HTML).
    /// </summary>
    private sealed class RecordJson
    {
        private readonly ArrayBufferWriter<byte> _buffer = new(1024);
        private readonly Utf8JsonWriter _writer;

        public RecordJson() => _writer = new Utf8JsonWriter(_buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

        public string Of(string[] columns, string[] fields)
        {
            _buffer.ResetWrittenCount();
            _writer.Reset(_buffer);
            _writer.WriteStartObject();
            for (var i = 0; i < columns.Length; i++) _writer.WriteString(columns[i], fields[i]);
            _writer.WriteEndObject();
            _writer.Flush();
            return System.Text.Encoding.UTF8.GetString(_buffer.WrittenSpan);
        }
    }

    private static Task ReportAsync(Import import, JobContext context, Tally tally, long position, CancellationToken ct)
    {
        var percent = import.SizeBytes == 0 ? 99 : (int)Math.Min(99, position * 100 / import.SizeBytes);
        return context.ReportProgressAsync(percent,
            $"{tally.Rows:N0} rows read ({tally.Good:N0} records, {tally.Rejected:N0} rejected); {position:N0} of {import.SizeBytes:N0} bytes read", ct);
    }

    /// <summary>
    /// One batch in one transaction: the fences (this attempt's lease, held until commit; the checkpoint as this run
    /// last saw it), the checkpoint and counters (completed with <paramref name="complete"/>), then the records, upserted
    /// in one statement from arrays. Returns the new checkpoint.
    /// </summary>
    private async Task<long> CommitAsync(Import import, JobContext context, long seen, FrozenBatch batch, bool complete, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await using (var lease = new NpgsqlCommand(
            "SELECT 1 FROM jobs WHERE id = $1 AND lease_token = $2 AND state = 'running' FOR SHARE", connection, tx) { CommandTimeout = 0 })
        {
            lease.Parameters.Add(new NpgsqlParameter { Value = context.JobId });
            lease.Parameters.Add(new NpgsqlParameter { Value = context.LeaseToken });
            if (await lease.ExecuteScalarAsync(ct) is null) throw new StaleRunException("This attempt's lease is no longer current: another run took the job over.");
        }

        await using (var advance = new NpgsqlCommand("""
            UPDATE imports SET checkpoint_rows = $3, bytes_read = $4, records_upserted = $5, rows_rejected = $6, first_errors = $7::jsonb,
                               last_batch_at = now(),
                               state = CASE WHEN $8 THEN 'completed' ELSE state END,
                               finished_at = CASE WHEN $8 THEN now() END
            WHERE id = $1 AND job_id = $2 AND checkpoint_rows = $9 AND state = 'running'
            """, connection, tx) { CommandTimeout = 0 })
        {
            advance.Parameters.Add(new NpgsqlParameter { Value = import.Id });
            advance.Parameters.Add(new NpgsqlParameter { Value = context.JobId });
            advance.Parameters.Add(new NpgsqlParameter { Value = batch.Rows });
            advance.Parameters.Add(new NpgsqlParameter { Value = batch.BytesRead });
            advance.Parameters.Add(new NpgsqlParameter { Value = batch.Good });
            advance.Parameters.Add(new NpgsqlParameter { Value = batch.Rejected });
            advance.Parameters.Add(new NpgsqlParameter { Value = batch.ErrorsJson });
            advance.Parameters.Add(new NpgsqlParameter { Value = complete });
            advance.Parameters.Add(new NpgsqlParameter { Value = seen });
            if (await advance.ExecuteNonQueryAsync(ct) == 0)
            {
                throw new StaleRunException("The import's checkpoint moved since this run read it: another run is ahead.");
            }
        }

        if (batch.Records.Count > 0)
        {
            await using var upsert = new NpgsqlCommand("""
                INSERT INTO snapshot_records AS r (tenant_id, snapshot, external_id, data, fetched_at, updated_at, sync_id, import_id)
                SELECT $1, $2, u.id, u.data::jsonb, now(), NULL, NULL, $3
                FROM unnest($4::text[], $5::text[]) AS u(id, data)
                ON CONFLICT (tenant_id, snapshot, external_id) DO UPDATE
                SET data = excluded.data, fetched_at = excluded.fetched_at, updated_at = NULL, sync_id = NULL, import_id = excluded.import_id
                """, connection, tx) { CommandTimeout = 0 };
            upsert.Parameters.Add(new NpgsqlParameter { Value = import.TenantId });
            upsert.Parameters.Add(new NpgsqlParameter { Value = import.Snapshot });
            upsert.Parameters.Add(new NpgsqlParameter { Value = import.Id });
            upsert.Parameters.Add(new NpgsqlParameter { Value = batch.Records.Select(r => r.Id).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            upsert.Parameters.Add(new NpgsqlParameter { Value = batch.Records.Select(r => r.Json).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            await upsert.ExecuteNonQueryAsync(ct);
        }
        ct.ThrowIfCancellationRequested();
        await tx.CommitAsync(ct);
        return batch.Rows;
    }

    /// <summary>The bad rows found, on the row of an import about to fail for them (its checkpoint and records stay as committed).</summary>
    private async Task RecordBadRowsAsync(Import import, JobContext context, Tally tally, CancellationToken ct)
    {
        var errors = JsonSerializer.Serialize(tally.Errors, Json);
        var jobId = context.JobId;
        await db.Database.ExecuteSqlAsync(
            $"UPDATE imports SET rows_rejected = {tally.Rejected}, first_errors = {errors}::jsonb WHERE id = {import.Id} AND job_id = {jobId}", ct);
    }

    /// <summary>A value quoted in an error, cut short.</summary>
    private static string Clip(string value, int max = 40) => value.Length <= max ? value : value[..max] + "…";

    /// <summary>What a run found so far. Text from the file quoted in a reason is made storable here.</summary>
    private sealed class Tally
    {
        /// <summary>Data rows read (good and bad; headers and blank lines are not rows).</summary>
        public long Rows;
        public long Good;
        public long Rejected;
        public List<DatasetLineError> Errors { get; } = [];

        /// <summary>The ids of the good rows read: a second row with one of them is a duplicate.</summary>
        public HashSet<string> Ids { get; } = new(StringComparer.Ordinal);

        public void Reject(long line, string reason, string? file)
        {
            Rejected++;
            if (Errors.Count < Import.MaxErrorsKept) Errors.Add(new DatasetLineError(line, StorableText.Sanitize(reason)!, file));
        }

        /// <summary>A batch's records with the counters as they stand after it, for a commit that runs while reading goes on.</summary>
        public FrozenBatch Freeze(List<(string Id, string Json)> records, long bytesRead) =>
            new(records, Rows, Good, Rejected, JsonSerializer.Serialize(Errors, Json), bytesRead);
    }

    /// <summary>What one commit writes: the batch's records, and the checkpoint and counters after it.</summary>
    private sealed record FrozenBatch(List<(string Id, string Json)> Records, long Rows, long Good, long Rejected, string ErrorsJson, long BytesRead);

    /// <summary>This run is no longer the current one (its job was recovered elsewhere): it stops without writing.</summary>
    private sealed class StaleRunException(string message) : Exception(message);
}
