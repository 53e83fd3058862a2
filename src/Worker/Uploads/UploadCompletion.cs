using Monolith.Domain.Uploads;

namespace Monolith.Worker.Uploads;

/// <summary>What <see cref="DirectUploads.CompleteAsync"/> found.</summary>
public enum UploadCompletionStatus
{
    /// <summary>The upload is ready: verified now, or already.</summary>
    Ready,

    /// <summary>No such upload is visible (or it expired and was removed).</summary>
    NotFound,

    /// <summary>Nothing was PUT yet (or the store cannot take direct uploads): the upload stays pending.</summary>
    NotPut,

    /// <summary>Its time is up (the URL's expiry and the grace period): it is about to be removed.</summary>
    Expired,

    /// <summary>It failed verification before: a new upload is needed.</summary>
    Failed,

    /// <summary>The bytes are not the declared ones (<see cref="UploadCompletion.Mismatch"/>): the object is deleted, the upload failed.</summary>
    Mismatch,
}

/// <summary>The outcome of completing a pre-signed upload, with the upload as it is now.</summary>
public sealed record UploadCompletion(UploadCompletionStatus Status, Upload? Upload, UploadMismatch? Mismatch = null);
