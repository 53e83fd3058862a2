using Microsoft.AspNetCore.Http.HttpResults;
using Monolith.Api.Infrastructure;
using Monolith.Domain.Text;
using Monolith.Worker.Jobs.Datasets;
using Monolith.Worker.Outbound;

namespace Monolith.Api.Features.Datasets;

/// <summary>
/// The fields of <c>POST /v1/datasets</c> (<see cref="UploadDatasetForm"/>) as they stream in: country and format (short
/// texts, refused at once when not storable), callbackUrl (checked, its error kept for the answer), and the file part,
/// before which the fields sent so far are checked, so a bad country need not wait for a large upload.
/// </summary>
public sealed class DatasetFormFields(OutboundAddressPolicy outbound) : IUploadForm
{
    /// <summary>Longest text field (country, format) read from the form.</summary>
    private const int MaxFieldLength = 100;

    public string? Country { get; private set; }
    public string? Format { get; private set; }
    public string? CallbackUrl { get; private set; }

    /// <summary>The file part's name, once it came.</summary>
    public string? FileName { get; private set; }

    /// <summary>Errors kept for the answer (the callback URL's): the whole form is read first.</summary>
    private readonly Dictionary<string, string[]> _errors = [];

    public int? MaxLength(string field) => field switch
    {
        "country" or "format" => MaxFieldLength,
        "callbackUrl" => CallbackUrls.MaxLength + 1,
        _ => null,
    };

    public async ValueTask<ValidationProblem?> FieldAsync(string field, string value, CancellationToken ct)
    {
        if (field == "callbackUrl")
        {
            CallbackUrl = value;
            if (!StorableText.IsStorable(value)) _errors["callbackUrl"] = [StorableText.Reason];
            else if (await CallbackUrls.CheckAsync(value, outbound, ct) is { } reason) _errors["callbackUrl"] = [reason];
            return null;
        }
        if (!StorableText.IsStorable(value)) return await Invalid(field, StorableText.Reason);
        if (field == "country") Country = value;
        else Format = value;
        return null;
    }

    public ValueTask<ValidationProblem?> FileAsync(string? fileName, string? contentType, CancellationToken ct)
    {
        DatasetFormatChoice.Check(Country, Format, _errors, requireCountry: false);
        if (_errors.Count > 0) return ValueTask.FromResult<ValidationProblem?>(TypedResults.ValidationProblem(_errors));
        FileName = fileName ?? "";
        if (FileName.Length is 0 or > 255) return Invalid("file", "The file needs a name of 1 to 255 characters (the format may read the year from it).");
        return StorableText.IsStorable(FileName) ? ValueTask.FromResult<ValidationProblem?>(null) : Invalid("file", StorableText.Reason);
    }

    /// <summary>
    /// Once the form is read: what is missing or wrong in it (no file, no country, the errors kept), or null when the
    /// dataset may be created (whose command checks the country and format against the file).
    /// </summary>
    public ValidationProblem? Incomplete()
    {
        if (FileName is not null && _errors.Count == 0) return null;
        DatasetFormatChoice.Check(Country, Format, _errors, requireCountry: true);
        if (FileName is null) _errors["file"] = ["A file is required (a multipart field named 'file')."];
        return TypedResults.ValidationProblem(_errors);
    }

    private static ValueTask<ValidationProblem?> Invalid(string field, string message) =>
        ValueTask.FromResult<ValidationProblem?>(TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] }));
}
