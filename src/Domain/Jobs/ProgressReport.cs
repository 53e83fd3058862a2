namespace Monolith.Domain.Jobs;

/// <summary>
/// The progress a running attempt reports: <paramref name="Percent"/> (0 to 100) and an optional
/// <paramref name="Message"/>, fenced by the attempt's <paramref name="Lease"/> (<see cref="JobStore.ReportProgressAsync"/>).
/// </summary>
public readonly record struct ProgressReport(Guid JobId, Guid Lease, int Percent, string? Message);
