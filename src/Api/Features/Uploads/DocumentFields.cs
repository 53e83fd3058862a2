using Microsoft.AspNetCore.Http.HttpResults;
using Monolith.Api.Infrastructure;
using Monolith.Domain.Text;
using Monolith.Domain.Uploads;

namespace Monolith.Api.Features.Uploads;

/// <summary>
/// What <c>POST /v1/uploads</c> takes from a request besides the bytes: the document's name and Content-Type, from its
/// multipart part (the form has no other field) or from the raw body's headers, checked and set on the upload.
/// </summary>
public sealed class DocumentFields(Upload upload) : IUploadForm
{
    private const string DefaultContentType = "application/octet-stream";

    public int? MaxLength(string field) => null;

    public ValueTask<ValidationProblem?> FieldAsync(string field, string value, CancellationToken ct) => ValueTask.FromResult<ValidationProblem?>(null);

    public ValueTask<ValidationProblem?> FileAsync(string? fileName, string? contentType, CancellationToken ct) =>
        ValueTask.FromResult(Take(fileName, contentType, contentTypeField: "file", contentTypePrefix: "Its Content-Type: "));

    /// <summary>
    /// Sets the upload's name (the id when none is given) and Content-Type (<c>application/octet-stream</c> when none, or
    /// an over-long one, is given), or answers why they cannot be stored; a bad Content-Type is reported on
    /// <paramref name="contentTypeField"/>.
    /// </summary>
    public ValidationProblem? Take(string? fileName, string? contentType, string contentTypeField, string contentTypePrefix)
    {
        if (fileName is { Length: 0 or > 255 }) return Invalid("filename", "The file name must be 1 to 255 characters.");
        if (!StorableText.IsStorable(fileName)) return Invalid("filename", StorableText.Reason);
        if (!StorableText.IsStorable(contentType)) return Invalid(contentTypeField, contentTypePrefix + StorableText.Reason);
        upload.FileName = fileName ?? upload.Id.ToString();
        upload.ContentType = contentType is { Length: > 0 and <= 255 } type ? type : DefaultContentType;
        return null;
    }

    private static ValidationProblem Invalid(string field, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] });
}
