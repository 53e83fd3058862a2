using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Monolith.Api.Infrastructure;
using Monolith.Domain.Imports;
using Monolith.Domain.Text;
using Monolith.Worker.Jobs.Imports;
using Monolith.Worker.Outbound;

namespace Monolith.Api.Features.Imports;

/// <summary>
/// The fields of <c>POST /v1/imports</c> (<see cref="UploadImportForm"/>) as they stream in: short texts (refused at once
/// when not storable), hasHeader and maxBadRowShare parsed, and the file part, before which the
/// fields sent so far are judged (<see cref="ImportRules"/>), so a bad encoding need not wait for a large upload.
/// </summary>
public sealed class ImportFormFields : IUploadForm
{
    private const int MaxFieldLength = 200;

    public string? Snapshot { get; private set; }
    public string? IdColumn { get; private set; }
    public string? Delimiter { get; private set; }
    public string? Encoding { get; private set; }
    public bool? HasHeader { get; private set; }
    public double? MaxBadRowShare { get; private set; }
    public string? CallbackUrl { get; private set; }

    /// <summary>The file part's name, once it came.</summary>
    public string? FileName { get; private set; }

    /// <summary>Errors kept for the answer: the whole form is read first.</summary>
    private readonly Dictionary<string, string[]> _errors = [];

    /// <summary>The command's input from the fields read.</summary>
    public NewImport ToNewImport() => new(Snapshot ?? "", IdColumn ?? "", Delimiter, Encoding, HasHeader, MaxBadRowShare, CallbackUrl);

    public int? MaxLength(string field) => field switch
    {
        "snapshot" or "idColumn" or "delimiter" or "encoding" or "hasHeader" or "maxBadRowShare" => MaxFieldLength,
        "callbackUrl" => CallbackUrls.MaxLength + 1,
        _ => null,
    };

    public ValueTask<ValidationProblem?> FieldAsync(string field, string value, CancellationToken ct)
    {
        if (!StorableText.IsStorable(value)) return ValueTask.FromResult(Invalid(field, StorableText.Reason));
        switch (field)
        {
            case "snapshot": Snapshot = value; break;
            case "idColumn": IdColumn = value; break;
            case "delimiter": Delimiter = value; break;
            case "encoding": Encoding = value; break;
            case "callbackUrl": CallbackUrl = value; break; // whether it may be called: the command's check
            case "hasHeader":
                if (bool.TryParse(value, out var hasHeader)) HasHeader = hasHeader;
                else _errors["hasHeader"] = ["true or false."];
                break;
            case "maxBadRowShare":
                if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var share)) MaxBadRowShare = share;
                else _errors["maxBadRowShare"] = ["A number between 0 and 1 (0.05 for 5 %)."];
                break;
        }
        return ValueTask.FromResult<ValidationProblem?>(null);
    }

    /// <summary>Before the file's bytes: the fields given so far must hold (those still missing may come after the file).</summary>
    public ValueTask<ValidationProblem?> FileAsync(string? fileName, string? contentType, CancellationToken ct)
    {
        ImportRules.Check(ToNewImport(), fileName, 0, _errors);
        if (Snapshot is null) _errors.Remove("snapshot");
        if (IdColumn is null) _errors.Remove("idColumn");
        if (_errors.Count > 0) return ValueTask.FromResult<ValidationProblem?>(TypedResults.ValidationProblem(_errors));
        FileName = fileName ?? "";
        if (FileName.Length is 0 or > 255) return ValueTask.FromResult(Invalid("file", "The file needs a name of 1 to 255 characters."));
        return ValueTask.FromResult(StorableText.IsStorable(FileName) ? null : Invalid("file", StorableText.Reason));
    }

    /// <summary>Once the form is read: a missing file, or the errors kept (the command judges the rest).</summary>
    public ValidationProblem? Incomplete()
    {
        if (FileName is not null) return _errors.Count == 0 ? null : TypedResults.ValidationProblem(_errors);
        ImportRules.Check(ToNewImport(), null, 0, _errors);
        _errors["file"] = ["A file is required (a multipart field named 'file')."];
        return TypedResults.ValidationProblem(_errors);
    }

    private static ValidationProblem? Invalid(string field, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] });
}
