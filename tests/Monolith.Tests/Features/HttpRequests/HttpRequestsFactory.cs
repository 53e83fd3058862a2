using System.Collections.Concurrent;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using Monolith.Tests.Infrastructure;
using Npgsql;

namespace Monolith.Tests.Features.HttpRequests;

/// <summary>
/// The service with every log line it writes also kept in memory (<see cref="Logs"/>), so tests can look for secrets
/// in them; and a small response limit, so the truncation test need not send a megabyte.
/// </summary>
public class HttpRequestsFactory : MonolithFactory
{
    public const int MaxResponseBytes = 4096;

    public LogCapture Logs { get; } = new();

    protected override Dictionary<string, string?> Settings => new(base.Settings)
    {
        ["HttpRequests:MaxResponseBytes"] = MaxResponseBytes.ToString(),
    };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureLogging(logging => logging.AddProvider(Logs));
    }

    /// <summary>One value of the job's row, as text (e.g. <c>payload::text</c>), read with SQL.</summary>
    public async Task<string?> ReadColumnAsync(Guid jobId, string expression)
    {
        await using var connection = new NpgsqlConnection(Monolith.Domain.Persistence.DatabaseUrl.ToConnectionString(DatabaseUrl));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"SELECT ({expression})::text FROM jobs WHERE id = @id", connection);
        command.Parameters.AddWithValue("id", jobId);
        return await command.ExecuteScalarAsync() as string;
    }
}

/// <summary>A logger provider that keeps every message, exception and scope it is given, as text.</summary>
public sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public string All => string.Join('\n', _lines);

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(LogCapture owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull
        {
            owner._lines.Enqueue($"{category} scope: {state}");
            return null;
        }

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner._lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)} {state} {exception}");
    }
}
