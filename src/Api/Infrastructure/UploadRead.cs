using Microsoft.AspNetCore.Http.HttpResults;

namespace Monolith.Api.Infrastructure;

/// <summary>How reading an upload went (<see cref="UploadReader"/>): read through, refused with a 400, or past the size limit (the caller's 413).</summary>
public readonly record struct UploadRead(ValidationProblem? Invalid, bool TooLarge)
{
    public static readonly UploadRead Read = new(null, false);
}
