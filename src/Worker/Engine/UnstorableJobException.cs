using System.Text;
using Npgsql;

namespace Monolith.Worker.Engine;

/// <summary>
/// PostgreSQL refused to store one submitted job because of its own data (a data exception such as a NUL in a
/// <c>jsonb</c> value: SQLSTATE class 22), or Npgsql could not encode its text (a lone surrogate). The job was not
/// stored; the client is told so (422), and nothing submitted with it is affected (<see cref="SubmitCoalescer"/>).
/// </summary>
public sealed class UnstorableJobException(string? sqlState, Exception inner)
    : Exception("The job's data cannot be stored" + (sqlState is null ? " (its text cannot be encoded)." : $" (SQLSTATE {sqlState})."), inner)
{
    /// <summary>PostgreSQL's SQLSTATE of the refusal; null when Npgsql could not encode the data at all.</summary>
    public string? SqlState => sqlState;

    /// <summary>
    /// <paramref name="exception"/> as an <see cref="UnstorableJobException"/> when it was caused by the data written (a
    /// PostgreSQL data exception, class 22, or an encoding failure), else null: a lost connection, a timeout or a
    /// constraint of the engine's own rows is not the data's fault.
    /// </summary>
    public static UnstorableJobException? FromDataError(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case UnstorableJobException already:
                    return already;
                case PostgresException pg when pg.SqlState.StartsWith("22", StringComparison.Ordinal):
                    return new UnstorableJobException(pg.SqlState, exception);
                case EncoderFallbackException or DecoderFallbackException:
                    return new UnstorableJobException(null, exception);
            }
        }
        return null;
    }
}
