namespace Monolith.Domain.Imports;

/// <summary>An import's life: waiting for its job, reading the file, done, given up on, or stopped by a client.</summary>
public enum ImportState
{
    Queued,
    Running,
    Completed,
    Failed,
    Cancelled,
}

public static class ImportStates
{
    /// <summary>The lower-case name stored in the table.</summary>
    public static string ToName(this ImportState state) => state switch
    {
        ImportState.Queued => "queued",
        ImportState.Running => "running",
        ImportState.Completed => "completed",
        ImportState.Failed => "failed",
        ImportState.Cancelled => "cancelled",
        _ => throw new ArgumentOutOfRangeException(nameof(state)),
    };
}
