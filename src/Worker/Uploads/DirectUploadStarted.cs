using Monolith.Domain.Uploads;
using Monolith.Worker.Storage;

namespace Monolith.Worker.Uploads;

/// <summary>A pending upload and the pre-signed PUT that fills it; null when the file store takes no direct uploads.</summary>
public sealed record DirectUploadStarted(Upload? Upload, PresignedPut? Put)
{
    public static readonly DirectUploadStarted NotSupported = new(null, null);
}
