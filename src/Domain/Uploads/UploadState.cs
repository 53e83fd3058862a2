namespace Monolith.Domain.Uploads;

/// <summary>
/// An upload's life: a pre-signed upload is <see cref="Pending"/> until the service has verified the bytes the client
/// PUT to the store (<c>POST /v1/uploads/{id}/complete</c>), then <see cref="Ready"/>, or <see cref="Failed"/> when they
/// were not what the client declared. A document streamed through the API is ready at once.
/// </summary>
public enum UploadState
{
    Pending,
    Ready,
    Failed,
}

public static class UploadStates
{
    /// <summary>The lower-case name stored in the table and shown to clients.</summary>
    public static string ToName(this UploadState state) => state switch
    {
        UploadState.Pending => "pending",
        UploadState.Ready => "ready",
        UploadState.Failed => "failed",
        _ => throw new ArgumentOutOfRangeException(nameof(state)),
    };
}
