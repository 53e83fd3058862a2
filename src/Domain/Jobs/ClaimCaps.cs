namespace Monolith.Domain.Jobs;

/// <summary>
/// Cluster-wide limits on how many jobs run at once, per queue and per job type (docs/housekeeping.md). Only the
/// capped keys cost anything: with no cap, claims take the plain path.
/// </summary>
/// <param name="Queues">Most jobs of a queue running at once across the cluster.</param>
/// <param name="Types">Most jobs of a type running at once across the cluster.</param>
/// <param name="Rates">Most jobs of a type started per second across the cluster (fixed one-second windows).</param>
public sealed record ClaimCaps(IReadOnlyDictionary<string, int> Queues, IReadOnlyDictionary<string, int> Types, IReadOnlyDictionary<string, int>? Rates = null)
{
    public IReadOnlyDictionary<string, int> Rates { get; } = Rates ?? new Dictionary<string, int>();

    public bool IsEmpty => Queues.Count == 0 && Types.Count == 0 && Rates.Count == 0;

    public bool Covers(Job job) => Queues.ContainsKey(job.Queue) || Types.ContainsKey(job.Type);

    /// <summary>The advisory-lock keys of every capped queue and type, in one fixed order (no deadlock between claimers).</summary>
    public string[] LockKeys() =>
        [.. Queues.Keys.Select(q => "monolith.cap.queue:" + q).Concat(Types.Keys.Concat(Rates.Keys).Distinct().Select(t => "monolith.cap.type:" + t))
            .Order(StringComparer.Ordinal)];
}
