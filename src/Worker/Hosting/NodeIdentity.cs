namespace Monolith.Worker.Hosting;

/// <summary>
/// This process's name in the cluster: the Quartz instance id, the <c>node</c> of jobs and log lines.
/// <c>INSTANCE_ID</c> (or <c>POD_NAME</c>) gives a stable one, which lets a restarted node recover its own
/// interrupted jobs at once; otherwise host name, process id and a random suffix keep live nodes apart.
/// </summary>
public sealed class NodeIdentity(string id, ServiceType serviceType)
{
    public string Id { get; } = id;
    public ServiceType ServiceType { get; } = serviceType;

    public static string Resolve(string? configured) =>
        !string.IsNullOrWhiteSpace(configured)
            ? configured.Trim()
            : $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}";
}
