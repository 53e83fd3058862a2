namespace Monolith.Domain.Imports;

/// <summary>
/// What a client asks an import to do: the input of <c>ImportCommands.CreateAsync</c> and <c>CreateFromUploadAsync</c>
/// (the file itself is already stored, or named by an upload). Values as the client gave them; the command checks them.
/// </summary>
/// <param name="Snapshot">The snapshot the records go to.</param>
/// <param name="IdColumn">A header name, or <c>c1</c>…<c>cN</c> when the file has no header.</param>
/// <param name="Delimiter">One character (<c>\t</c> or <c>tab</c> for a tab); null: a tab for a <c>.tsv</c> file name, else a comma.</param>
/// <param name="Encoding">utf-8 or latin1 (null: utf-8).</param>
/// <param name="HasHeader">Null: true.</param>
/// <param name="MaxBadRowShare">0 to 1; null: the <c>Imports__DefaultMaxBadRowShare</c> setting.</param>
/// <param name="CallbackUrl">Checked already: where the job's end is posted.</param>
public sealed record NewImport(
    string Snapshot, string IdColumn, string? Delimiter, string? Encoding, bool? HasHeader, double? MaxBadRowShare, string? CallbackUrl);
