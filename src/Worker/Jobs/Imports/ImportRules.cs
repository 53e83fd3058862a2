using System.Text.RegularExpressions;
using Monolith.Domain.Imports;
using Monolith.Domain.Syncs;
using Monolith.Domain.Text;

namespace Monolith.Worker.Jobs.Imports;

/// <summary>How an import reads its file, once <see cref="ImportRules.Check"/> has accepted the request.</summary>
public sealed record ImportSettings(string Snapshot, string IdColumn, char Delimiter, string Encoding, bool HasHeader, double MaxBadRowShare);

/// <summary>
/// The one place an import's request is judged (the multipart form as it streams in, a JSON body naming an upload, the
/// command): snapshot, idColumn, delimiter, encoding, hasHeader and maxBadRowShare. Errors are keyed by those field names,
/// as <c>POST /v1/imports</c> answers them.
/// </summary>
public static partial class ImportRules
{
    public const int MaxIdColumnLength = 200;

    /// <summary>Without a header, columns are called <c>c1</c>…<c>cN</c>.</summary>
    [GeneratedRegex("^c([1-9][0-9]{0,5})$")]
    private static partial Regex PositionalColumn();

    /// <summary>The 1-based column <paramref name="name"/> stands for without a header (<c>c3</c>: 3), or null.</summary>
    public static int? PositionOf(string name) =>
        PositionalColumn().Match(name) is { Success: true } match ? int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : null;

    /// <summary>
    /// The settings, or null with the errors added. <paramref name="fileName"/> picks the default delimiter (a tab for
    /// <c>.tsv</c>, <c>.tsv.gz</c>, <c>.tab</c>; else a comma); null when it is not known yet (the form before its file).
    /// </summary>
    public static ImportSettings? Check(NewImport input, string? fileName, double defaultMaxBadRowShare, IDictionary<string, string[]> errors)
    {
        if (!SnapshotNames.IsValid(input.Snapshot)) errors["snapshot"] = [string.IsNullOrEmpty(input.Snapshot) ? "A snapshot name is required." : SnapshotNames.Rule];

        var hasHeader = input.HasHeader ?? true;
        if (string.IsNullOrWhiteSpace(input.IdColumn)) errors["idColumn"] = ["The column holding each record's id is required (a header name, or c1…cN without a header)."];
        else if (input.IdColumn.Length > MaxIdColumnLength) errors["idColumn"] = [$"At most {MaxIdColumnLength} characters."];
        else if (!StorableText.IsStorable(input.IdColumn)) errors["idColumn"] = [StorableText.Reason];
        else if (!hasHeader && PositionOf(input.IdColumn) is null) errors["idColumn"] = ["Without a header, columns are named c1, c2, … (c1 is the first)."];

        char delimiter = ',';
        switch (input.Delimiter)
        {
            case null or "":
                var name = fileName?.ToLowerInvariant() ?? "";
                delimiter = name.EndsWith(".tsv") || name.EndsWith(".tsv.gz") || name.EndsWith(".tab") ? '\t' : ',';
                break;
            case @"\t" or "tab" or "TAB":
                delimiter = '\t';
                break;
            case { Length: 1 } one when one[0] is not ('"' or '\r' or '\n' or '\0') && !char.IsSurrogate(one[0]):
                delimiter = one[0];
                break;
            default:
                errors["delimiter"] = ["One character other than a quote or a line break (\\t or tab for a tab); default: a comma, a tab for .tsv files."];
                break;
        }

        var encoding = ImportEncodings.Normalize(input.Encoding);
        if (encoding is null) errors["encoding"] = [$"Unknown encoding. Encodings: {string.Join(", ", ImportEncodings.All)}."];

        var share = input.MaxBadRowShare ?? defaultMaxBadRowShare;
        if (share is not (>= 0 and <= 1)) errors["maxBadRowShare"] = ["Between 0 and 1 (0.05: the import fails when more than 5 % of its rows are bad)."];

        return errors.Count > 0 ? null : new ImportSettings(input.Snapshot, input.IdColumn, delimiter, encoding!, hasHeader, share);
    }
}
