namespace Monolith.Worker.Jobs.Datasets;

/// <summary>A names file already in the file store, to become a dataset (<see cref="DatasetCommands.CreateAsync"/>).</summary>
/// <param name="Id">The dataset's id (UUIDv7), chosen before the file was stored: its storage key names it.</param>
/// <param name="FileName">The client's file name (no path); the format may be told by it.</param>
/// <param name="Country">As the client gave it; required.</param>
/// <param name="Format">As the client gave it; null: told by the file's name, else the country's default.</param>
/// <param name="CallbackUrl">Checked already: where the parse job's end is posted.</param>
public sealed record NewDataset(Guid Id, string StorageKey, string FileName, long SizeBytes, string? Country, string? Format, string? CallbackUrl);
