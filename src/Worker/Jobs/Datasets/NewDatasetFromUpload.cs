namespace Monolith.Worker.Jobs.Datasets;

/// <summary>A ready upload to become a dataset (<see cref="DatasetCommands.CreateFromUploadAsync"/>).</summary>
/// <param name="UploadId">A ready upload of the tenant (<c>POST /v1/uploads</c>, streamed or pre-signed and completed).</param>
/// <param name="Country">As the client gave it; required.</param>
/// <param name="Format">As the client gave it; null: told by the upload's file name, else the country's default.</param>
/// <param name="CallbackUrl">Checked already: where the parse job's end is posted.</param>
public sealed record NewDatasetFromUpload(Guid UploadId, string? Country, string? Format, string? CallbackUrl);
