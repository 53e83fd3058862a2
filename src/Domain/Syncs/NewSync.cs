namespace Monolith.Domain.Syncs;

/// <summary>
/// What a client asks a sync to do: the input of <c>SyncCommands.CreateAsync</c>. The source's header values are in plain
/// text here; the command encrypts them before the row is written.
/// </summary>
/// <param name="Snapshot">The snapshot the records go to.</param>
/// <param name="CallbackUrl">Where the job's signed event goes when it ends (docs/webhooks.md); null: none.</param>
public sealed record NewSync(string Snapshot, SyncSource Source, string? CallbackUrl = null);
