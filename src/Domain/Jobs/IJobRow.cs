namespace Monolith.Domain.Jobs;

/// <summary>
/// The row of a job-backed feature (a dataset, a transfer, a sync): what clients see of the work, kept beside the job
/// that does it (docs/job-backed-features.md). <see cref="JobId"/> is the feature's current job; it is written with
/// the job, in one transaction.
/// </summary>
public interface IJobRow
{
    Guid Id { get; }
    Guid TenantId { get; }
    Guid? JobId { get; set; }
}
