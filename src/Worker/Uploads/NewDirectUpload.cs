namespace Monolith.Worker.Uploads;

/// <summary>What a client declares of a document it will PUT itself (<see cref="DirectUploads.StartAsync"/>), checked for shape.</summary>
/// <param name="Sha256">Lower-case hex.</param>
/// <param name="ExpiresInSeconds">A shorter life for the URL than <see cref="DirectUploadOptions.PresignedExpirySeconds"/>, or null.</param>
public sealed record NewDirectUpload(string FileName, long SizeBytes, string Sha256, string ContentType, int? ExpiresInSeconds);
