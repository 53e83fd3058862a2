namespace Monolith.Testing;

/// <summary>
/// How <see cref="ServiceProcess"/> starts nodes: which build, with which admin and encryption keys, where their logs go
/// and how long a start may take. The tests and the bench each hold one.
/// </summary>
/// <param name="ApiDll">The built <c>Monolith.Api.dll</c> to run.</param>
/// <param name="AdminKey">The node's <c>ADMIN_API_KEY</c>, which <see cref="ServiceProcess.CreateClient"/> sends.</param>
/// <param name="SecretKeyId">The id of the node's encryption key (<c>Secrets__Keys__&lt;id&gt;</c>).</param>
/// <param name="SecretKey">That key: base64 of 32 bytes.</param>
public sealed record ServiceProcessOptions(string ApiDll, string AdminKey, string SecretKeyId, string SecretKey)
{
    /// <summary>The folder of the nodes' log files (<c>&lt;instance&gt;-&lt;port&gt;.log</c>); no log files when null.</summary>
    public string? LogDirectory { get; init; }

    /// <summary>How long a node may take to answer <c>GET /health/ready</c> with 200.</summary>
    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How many of a node's last lines are kept in memory; every line when null.</summary>
    public int? KeepLines { get; init; }

    /// <summary>
    /// When set, a node that shuts down gracefully before it is ready (seen once on a machine shared with other
    /// runs: exit code 0, as on SIGTERM) is started again, at most twice, and this is told its instance id. When
    /// null, such a start fails.
    /// </summary>
    public Action<string>? OnEarlyShutdown { get; init; }
}
