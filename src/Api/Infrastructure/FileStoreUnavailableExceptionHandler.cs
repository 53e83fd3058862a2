using Microsoft.AspNetCore.Diagnostics;
using Monolith.Worker.Storage;

namespace Monolith.Api.Infrastructure;

/// <summary>
/// While the file store fails (S3 unreachable, refusing, or answering bytes that do not check out:
/// <see cref="FileStoreException"/>) a request that needs it answers 503 with Retry-After, so clients retry rather
/// than give up or blame their own bytes; what the request would have stored is not kept. The store's address,
/// bucket and error stay in the log (they never hold its credentials), not in the answer.
/// </summary>
public sealed class FileStoreUnavailableExceptionHandler(IProblemDetailsService problems, ILogger<FileStoreUnavailableExceptionHandler> logger)
    : IExceptionHandler
{
    public const int RetryAfterSeconds = 5;

    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken ct)
    {
        var failure = exception;
        while (failure is not null and not FileStoreException) failure = failure.InnerException;
        if (failure is null) return false;

        logger.LogWarning("File store unavailable: {Reason}", failure.Message);
        return await ServiceUnavailableProblem.WriteAsync(problems, http, "The file store is unavailable.",
            $"Nothing was stored. Try again in {RetryAfterSeconds} seconds.", RetryAfterSeconds);
    }
}
