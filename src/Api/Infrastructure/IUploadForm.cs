using Microsoft.AspNetCore.Http.HttpResults;

namespace Monolith.Api.Infrastructure;

/// <summary>
/// One endpoint's multipart/form-data fields, as <see cref="UploadReader.ReadFormAsync"/> streams them: it asks which
/// text fields the form has, hands over each one read, and asks before the file part's bytes are stored. A problem
/// returned refuses the upload at once (the rest of the body is not read; a file stored already is deleted).
/// </summary>
public interface IUploadForm
{
    /// <summary>
    /// How many characters of a text field are read (at most one more is, so that a longer value is seen to be too
    /// long); null: not a field of this form, drained unread.
    /// </summary>
    int? MaxLength(string field);

    /// <summary>A text field, read and trimmed.</summary>
    ValueTask<ValidationProblem?> FieldAsync(string field, string value, CancellationToken ct);

    /// <summary>
    /// The file part (the first part named <c>file</c> with a file name), before its bytes are stored: its file name
    /// without any path (<see cref="UploadReader.FileNameOf"/>) and its Content-Type.
    /// </summary>
    ValueTask<ValidationProblem?> FileAsync(string? fileName, string? contentType, CancellationToken ct);
}
