using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Monolith.Domain.Datasets;
using Monolith.Domain.Persistence;
using Monolith.Domain.Text;
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
/// (name, not text, corrupt archive, past a decompression limit) fails at once; database and storage errors are retried.
/// </para>
/// <para>
/// Every statement waits as long as the job may run: no driver timeout (Npgsql's 30 s default would fail a large
/// file's delete or supersede at every attempt); the job's own timeout, cancellation and shutdown stop it instead,
/// through the token (Npgsql then cancels the statement in PostgreSQL).
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

    /// <summary>Zip entries skipped (not of the format) listed by name in the result; the rest are only counted.</summary>
    public const int MaxSkippedEntriesListed = 20;

    public async Task<object?> HandleAsync(ParseDatasetPayload payload, JobContext context, CancellationToken ct)
    {
        db.Database.SetCommandTimeout(TimeSpan.Zero); // bounded by ct (the job's timeout and cancellation), not by the driver
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
            return Result(dataset.Id, tally.Inserted, tally.Rejected, tally.Aggregates, tally.SkippedEntries, tally.SkippedEntryCount);
        }
        catch (InvalidDataException ex)
        {
            var error = $"'{dataset.FileName}' is not a valid compressed file: {ex.Message}";
            await MarkFailedAsync(dataset.Id, context.JobId, error, tally, ct);
            throw new PermanentJobException(error, ex);
        }
        catch (PermanentJobException ex)
        {
            await MarkFailedAsync(dataset.Id, context.JobId, ex.Message, tally, ct);
            throw;
        }
        // Any other failure is retried; when the attempts run out (or the job is cancelled), DatasetJobEnded marks the
        // dataset failed with the job's error, in the transaction that ends the job.
    }

    private static object Result(Guid datasetId, long inserted, long rejected, long aggregates,
        IReadOnlyList<string>? skipped = null, long skippedCount = 0) =>
        new
        {
            datasetId, rowsInserted = inserted, rowsRejected = rejected, aggregateRows = aggregates,
            skippedEntries = skipped ?? [], skippedEntryCount = skippedCount,
        };

    private async Task ParseAndStoreAsync(Dataset dataset, JobContext context, Tally tally, CancellationToken ct)
    {
        var format = DatasetFormats.Find(dataset.Format)
            ?? throw new PermanentJobException($"Unknown format '{dataset.Format}'.");

        await using var stored = await StoredContent.OpenSeekableAsync(store, dataset.StorageKey, ct);
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);

        // Serialises runs of the same dataset (a stale run racing its replacement): the second one waits, then
        // deletes what the first committed.
        await ExecuteAsync(connection, tx, "SELECT 1 FROM datasets WHERE id = $1 FOR UPDATE", ct, dataset.Id);
        await ExecuteAsync(connection, tx, "DELETE FROM name_records WHERE dataset_id = $1", ct, dataset.Id);

        var limits = options.Value;
        var batch = new List<NameRow>(limits.BatchSize);
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

        foreach (var (fileName, content, inArchive) in Sources(dataset, stored, format, tally, limits))
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
                    tally.Scopes.Add((row.Region, row.Year));
                    if (row.Kind == NameRecordKinds.Aggregate) tally.Aggregates++;
                }
                else tally.Reject(number, reason, inArchive ? fileName : null);
                if (batch.Count >= limits.BatchSize) await FlushAsync();
            }
        }
        await FlushAsync();

        var total = tally.Inserted + tally.Rejected;
        if (total == 0) throw new PermanentJobException($"'{dataset.FileName}' holds no records.");
        if (tally.Rejected > limits.MaxBadLineShare * total)
        {
            throw new PermanentJobException(
                $"{tally.Rejected:N0} of {total:N0} lines are bad, more than the {limits.MaxBadLineShare:P1} allowed; nothing was kept.");
        }

        await SupersedeAsync(connection, tx, dataset, tally.Scopes, context, ct);
        await using (var complete = Command(connection, tx, """
            UPDATE datasets SET state = 'completed', rows_inserted = $2, rows_rejected = $3, first_errors = $4::jsonb,
                                aggregate_rows = $5, error = NULL, finished_at = now()
            WHERE id = $1
            """))
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
    /// One dataset per scope: the dataset completing now holds every (country, region, year) it has rows for (the
    /// parser collected them in <paramref name="scopes"/>), so the tenant's older records of those scopes are deleted
    /// in the same transaction, and their datasets record how many rows were replaced and by which dataset. A
    /// per-tenant-and-country transaction lock makes two parses that finish at once take turns, so the later one
    /// always replaces the earlier (never both kept, never both gone).
    /// <para>
    /// Nothing to do when the tenant has no other dataset of the country. Else real names are deleted per region, a
    /// batch of years at a time, through <c>ix_name_records_top (tenant_id, country, region, year, …) WHERE kind =
    /// 'name'</c>, so each statement reads only the rows of its years; aggregate rows (France's), which that index
    /// leaves out, are found through <c>ix_name_records_dataset</c> in the datasets that have any.
    /// </para>
    /// </summary>
    private static async Task SupersedeAsync(NpgsqlConnection connection, NpgsqlTransaction tx, Dataset dataset,
        IReadOnlySet<(string? Region, int? Year)> scopes, JobContext context, CancellationToken ct)
    {
        // A statement of its own, before the deletes: their snapshots must be taken after the lock is held.
        await ExecuteAsync(connection, tx, "SELECT pg_advisory_xact_lock(hashtextextended('datasets:' || $1::text || ':' || $2, 0))",
            ct, dataset.TenantId, dataset.Country);

        var others = new List<(Guid Id, bool HasAggregates)>();
        await using (var find = Command(connection, tx,
            "SELECT id, aggregate_rows > 0 FROM datasets WHERE tenant_id = $1 AND country = $2 AND id <> $3"))
        {
            find.Parameters.Add(new NpgsqlParameter { Value = dataset.TenantId });
            find.Parameters.Add(new NpgsqlParameter { Value = dataset.Country });
            find.Parameters.Add(new NpgsqlParameter { Value = dataset.Id });
            await using var reader = await find.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) others.Add((reader.GetGuid(0), reader.GetBoolean(1)));
        }
        if (others.Count == 0) return;

        // Real names always have a year (a row of unknown year is an aggregate): per region, its years in batches.
        var replaced = new Dictionary<Guid, long>();
        var batches = scopes.Where(s => s.Year is not null).GroupBy(s => s.Region)
            .SelectMany(region => region.Select(s => s.Year!.Value).Order().Chunk(SupersedeYearsPerStatement).Select(years => (region.Key, years)))
            .ToList();
        for (var i = 0; i < batches.Count; i++)
        {
            var (region, years) = batches[i];
            await using var delete = Command(connection, tx, $"""
                WITH replaced AS (
                    DELETE FROM name_records
                    WHERE tenant_id = $1 AND country = $2 AND region {(region is null ? "IS NULL" : "= $5")} AND year = ANY($4)
                      AND kind = 'name' AND dataset_id <> $3
                    RETURNING dataset_id)
                SELECT dataset_id, count(*) FROM replaced GROUP BY dataset_id
                """);
            delete.Parameters.Add(new NpgsqlParameter { Value = dataset.TenantId });
            delete.Parameters.Add(new NpgsqlParameter { Value = dataset.Country });
            delete.Parameters.Add(new NpgsqlParameter { Value = dataset.Id });
            delete.Parameters.Add(new NpgsqlParameter { Value = years });
            if (region is not null) delete.Parameters.Add(new NpgsqlParameter { Value = region });
            await CountReplacedAsync(delete, replaced, ct);
            await context.ReportProgressAsync(99, $"Replacing older records of the same years: {i + 1} of {batches.Count} batches", ct);
        }

        var withAggregates = others.Where(o => o.HasAggregates).Select(o => o.Id).ToArray();
        if (withAggregates.Length > 0)
        {
            await using var aggregates = Command(connection, tx, """
                WITH replaced AS (
                    DELETE FROM name_records
                    WHERE dataset_id = ANY($1) AND kind = 'aggregate'
                      AND (coalesce(region, ''), coalesce(year, 0)) IN (
                          SELECT coalesce(s.region, ''), coalesce(s.year, 0) FROM unnest($2::text[], $3::int[]) AS s(region, year))
                    RETURNING dataset_id)
                SELECT dataset_id, count(*) FROM replaced GROUP BY dataset_id
                """);
            aggregates.Parameters.Add(new NpgsqlParameter { Value = withAggregates });
            aggregates.Parameters.Add(new NpgsqlParameter { Value = scopes.Select(s => s.Region).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            aggregates.Parameters.Add(new NpgsqlParameter { Value = scopes.Select(s => s.Year).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer });
            await CountReplacedAsync(aggregates, replaced, ct);
        }

        if (replaced.Count == 0) return;
        await using var record = Command(connection, tx, """
            UPDATE datasets d SET rows_superseded = d.rows_superseded + r.n, superseded_by = $1
            FROM unnest($2::uuid[], $3::bigint[]) AS r(id, n) WHERE d.id = r.id
            """);
        record.Parameters.Add(new NpgsqlParameter { Value = dataset.Id });
        record.Parameters.Add(new NpgsqlParameter { Value = replaced.Keys.ToArray() });
        record.Parameters.Add(new NpgsqlParameter { Value = replaced.Values.ToArray() });
        await record.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Years of one region per supersede statement: each is one index range scan per year, the whole batch a short statement.</summary>
    private const int SupersedeYearsPerStatement = 16;

    private static async Task CountReplacedAsync(NpgsqlCommand delete, Dictionary<Guid, long> replaced, CancellationToken ct)
    {
        await using var reader = await delete.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var id = reader.GetGuid(0);
            replaced[id] = replaced.GetValueOrDefault(id) + reader.GetInt64(1);
        }
    }

    /// <summary>
    /// The files to parse (<see cref="StoredContent"/>): the stored file itself, the content of a gzip file, or each
    /// file of a zip whose name fits the format (others, such as a read-me, are skipped: the first few listed in the
    /// result, all counted).
    /// </summary>
    private static IEnumerable<(string FileName, Stream Content, bool InArchive)> Sources(
        Dataset dataset, Stream stored, DatasetFormat format, Tally tally, DatasetOptions limits)
    {
        var any = false;
        foreach (var part in StoredContent.Read(stored, dataset.FileName, limits, entry =>
                 {
                     if (format.ForFile(entry.Name) is not null) return true;
                     tally.Skip(entry.FullName);
                     return false;
                 }))
        {
            any = true;
            if (!part.InArchive) RequireName(format, part.FileName, dataset.FileName);
            yield return (part.FileName, part.Content, part.InArchive);
        }
        if (!any)
        {
            // Only a zip yields nothing: none of its files fits.
            throw new PermanentJobException(
                $"The zip '{dataset.FileName}' holds no file whose name fits format {format.Name} ({format.Description}).");
        }
    }

    private static void RequireName(DatasetFormat format, string fileName, string uploaded)
    {
        if (format.ForFile(fileName) is null)
        {
            throw new PermanentJobException($"The file name '{uploaded}' does not fit format {format.Name} ({format.Description}).");
        }
    }

    private static async Task CopyAsync(NpgsqlConnection connection, Dataset dataset, List<NameRow> rows, CancellationToken ct)
    {
        await using var copy = await connection.BeginBinaryImportAsync(
            "COPY name_records (dataset_id, tenant_id, country, region, year, sex, name, count, kind) FROM STDIN (FORMAT BINARY)", ct);
        copy.Timeout = TimeSpan.Zero; // no driver timeout (the connection's 30 s by default): ct bounds it
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

    /// <summary>A command without a driver timeout (<c>CommandTimeout = 0</c>): the job's token bounds it.</summary>
    private static NpgsqlCommand Command(NpgsqlConnection connection, NpgsqlTransaction? tx, string sql) =>
        new(sql, connection, tx) { CommandTimeout = 0 };

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string sql, CancellationToken ct, params object[] values)
    {
        await using var command = Command(connection, tx, sql);
        foreach (var value in values) command.Parameters.Add(new NpgsqlParameter { Value = value });
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// Records why the dataset failed, with the bad lines found so far (<see cref="DatasetFailure"/>). Bounded by the
    /// job's token like the rest; when the job is already being stopped there is nothing to mark here (its end marks
    /// the dataset failed: <see cref="DatasetJobEnded"/>).
    /// </summary>
    private Task MarkFailedAsync(Guid datasetId, Guid jobId, string error, Tally tally, CancellationToken ct) =>
        ct.IsCancellationRequested
            ? Task.CompletedTask
            : DatasetFailure.MarkAsync(db, datasetId, jobId, error, tally.Rejected, JsonSerializer.Serialize(tally.Errors, Json), deleteRecords: true, ct);

    /// <summary>What a parse found so far. Text from the file (a bad line quoted in a reason, a zip entry's name) is made storable here.</summary>
    private sealed class Tally
    {
        public long Inserted;
        public long Rejected;
        public long Aggregates;
        public List<DatasetLineError> Errors { get; } = [];

        /// <summary>The (region, year) of every row parsed: the scopes this dataset will hold.</summary>
        public HashSet<(string? Region, int? Year)> Scopes { get; } = [];

        /// <summary>The first <see cref="MaxSkippedEntriesListed"/> zip entries skipped (storable, clipped names).</summary>
        public List<string> SkippedEntries { get; } = [];
        public long SkippedEntryCount;

        public void Reject(long line, string reason, string? file)
        {
            Rejected++;
            if (Errors.Count < Dataset.MaxErrorsKept)
            {
                Errors.Add(new DatasetLineError(line, StorableText.Sanitize(reason)!, StorableText.Sanitize(file)));
            }
        }

        public void Skip(string entry)
        {
            SkippedEntryCount++;
            if (SkippedEntries.Count < MaxSkippedEntriesListed) SkippedEntries.Add(StorableText.Sanitize(ZipEntries.Shown(entry))!);
        }
    }
}
