namespace Monolith.Worker.Engine;

/// <summary>
/// This process's name in the cluster: the Quartz instance id, the <c>node</c> of jobs and log lines.
/// <c>INSTANCE_ID</c> (or <c>POD_NAME</c>) gives a stable one, which lets a restarted node recover its own
/// interrupted jobs at once; otherwise host name, process id and a random suffix keep live nodes apart.
/// </summary>
/// <param name="id">The instance id (<see cref="Resolve"/>).</param>
/// <param name="executesJobs">Whether this node runs jobs (<c>SERVICE_TYPE</c> <c>worker</c> or <c>all</c>).</param>
/// <param name="servesClients">Whether this node answers the REST API (<c>api</c> or <c>all</c>).</param>
public sealed class NodeIdentity(string id, bool executesJobs, bool servesClients = true)
{
    public string Id { get; } = id;

    /// <summary>
    /// Whether this node runs jobs: it starts the scheduler and listens for wake-ups and cancels. A node that does not
    /// (<c>SERVICE_TYPE=api</c>) still submits, cancels and retries, and listens for its clients waiting on jobs.
    /// </summary>
    public bool ExecutesJobs { get; } = executesJobs;

    /// <summary>
    /// Whether clients may wait on jobs here (<c>?wait=</c>, events): only then does the node listen for job changes. A
    /// worker-only node does not, so a busy cluster's change notifications cost it nothing.
    /// </summary>
    public bool ServesClients { get; } = servesClients;

    public static string Resolve(string? configured) =>
        !string.IsNullOrWhiteSpace(configured)
            ? configured.Trim()
            : $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}";
}
