using System.Net.Sockets;
using Microsoft.AspNetCore.Diagnostics;
using Npgsql;

namespace Monolith.Api.Infrastructure;

/// <summary>
/// While PostgreSQL is away (restarting, failing over) requests answer 503 with Retry-After, so clients retry
/// rather than give up; nothing was accepted, and no stack trace is shown.
/// </summary>
public sealed class DatabaseUnavailableExceptionHandler(IProblemDetailsService problems, ILogger<DatabaseUnavailableExceptionHandler> logger)
    : IExceptionHandler
{
    public const int RetryAfterSeconds = 5;

    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken ct)
    {
        if (!IsDatabaseUnavailable(exception)) return false;

        logger.LogWarning("Database unavailable: {Reason}", exception.GetBaseException().Message);
        return await ServiceUnavailableProblem.WriteAsync(problems, http, "The database is unavailable.",
            $"Nothing was changed. Try again in {RetryAfterSeconds} seconds.", RetryAfterSeconds);
    }

    private static bool IsDatabaseUnavailable(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is NpgsqlException { IsTransient: true } or SocketException or TimeoutException) return true;
            // Quartz's store failed inside the submit transaction (its connection was cut): nothing was committed.
            if (e is Quartz.JobPersistenceException) return true;
            if (e is PostgresException { SqlState: "57P01" or "57P02" or "57P03" or "53300" }) return true;
        }
        return false;
    }
}
