using Microsoft.EntityFrameworkCore;
using Monolith.Domain.Persistence;
using Monolith.Domain.Text;

namespace Monolith.Worker.Jobs.Datasets;

/// <summary>
/// The one statement that marks a dataset failed: by its job when the file cannot be parsed (with the bad lines found
/// so far), and by <see cref="DatasetJobEnded"/> when its job ends failed or cancelled otherwise.
/// </summary>
public static class DatasetFailure
{
    /// <summary>Longest error kept on the row.</summary>
    public const int MaxErrorLength = 2000;

    /// <summary>
    /// Records why the dataset failed. Only a dataset still waiting for <paramref name="jobId"/> (uploaded or processing)
    /// is marked, and only if no one holds its row: a run of the same dataset holding it is left to finish (the status
    /// rule shows the ended job's failure meanwhile). With <paramref name="deleteRecords"/> (the job itself, for a file
    /// it cannot parse) the same statement deletes the records an earlier run left. <see cref="DatasetJobEnded"/> passes
    /// false: it runs in a node's outcome batch, which deleting a large dataset's millions of records would hold up for
    /// every job of the node; a run that ended there committed nothing (a parse is one transaction), so what stays is
    /// the last completed run's records, replaced by the next reprocess or removed with the dataset. No driver timeout:
    /// the caller's token bounds it.
    /// </summary>
    public static async Task MarkAsync(
        MonolithDbContext db, Guid datasetId, Guid jobId, string error, long rowsRejected, string firstErrorsJson, bool deleteRecords,
        CancellationToken ct)
    {
        var clipped = StorableText.Sanitize(error.Length <= MaxErrorLength ? error : error[..MaxErrorLength])!; // a cut can split a surrogate pair
        var timeout = db.Database.GetCommandTimeout();
        db.Database.SetCommandTimeout(TimeSpan.Zero);
        try
        {
            await db.Database.ExecuteSqlAsync($"""
                WITH failed AS (
                    UPDATE datasets SET state = 'failed', error = {clipped}, rows_inserted = 0, rows_rejected = {rowsRejected},
                                        aggregate_rows = 0, first_errors = {firstErrorsJson}::jsonb, finished_at = now()
                    WHERE id = (SELECT id FROM datasets
                                WHERE id = {datasetId} AND job_id = {jobId} AND state IN ('uploaded', 'processing')
                                FOR UPDATE SKIP LOCKED)
                    RETURNING id)
                DELETE FROM name_records WHERE {deleteRecords} AND dataset_id IN (SELECT id FROM failed)
                """, ct);
        }
        finally
        {
            db.Database.SetCommandTimeout(timeout);
        }
    }
}
