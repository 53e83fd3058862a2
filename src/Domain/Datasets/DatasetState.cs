namespace Monolith.Domain.Datasets;

/// <summary>A dataset's life: stored, being parsed, parsed (records queryable), or given up on.</summary>
public enum DatasetState
{
    Uploaded,
    Processing,
    Completed,
    Failed,
}

public static class DatasetStates
{
    /// <summary>The lower-case name stored in the table and shown to clients.</summary>
    public static string ToName(this DatasetState state) => state switch
    {
        DatasetState.Uploaded => "uploaded",
        DatasetState.Processing => "processing",
        DatasetState.Completed => "completed",
        DatasetState.Failed => "failed",
        _ => throw new ArgumentOutOfRangeException(nameof(state)),
    };
}
