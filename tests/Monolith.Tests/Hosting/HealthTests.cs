using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Monolith.Tests.Infrastructure;
using Npgsql;

namespace Monolith.Tests.Hosting;

/// <summary>The service with every log entry of Warning and above kept, to check what was logged.</summary>
public sealed class LoggedFactory : MonolithFactory
{
    public ConcurrentQueue<(LogLevel Level, string Category, string Text)> Logs { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureServices(services => services.AddSingleton<ILoggerProvider>(new Capture(Logs)));
    }

    private sealed class Capture(ConcurrentQueue<(LogLevel, string, string)> logs) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Logger(logs, categoryName);

        public void Dispose() { }

        private sealed class Logger(ConcurrentQueue<(LogLevel, string, string)> logs, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                logs.Enqueue((logLevel, category, formatter(state, exception) + " " + exception));
        }
    }
}

/// <summary><c>/health/ready</c> tells anyone whether the node is ready, and nothing about why not: that goes to the log.</summary>
public sealed class HealthTests(LoggedFactory app) : IClassFixture<LoggedFactory>
{
    [Fact]
    public async Task Ready_WhenTheDatabaseRefusesConnections_ShowsOnlyStatuses_AndLogsTheDetail()
    {
        var database = new Uri(app.DatabaseUrl).AbsolutePath.TrimStart('/');
        using var client = app.CreateClient();
        try
        {
            await SetConnectionsAllowedAsync(database, false);

            var (status, body) = await WaitForReadyStatusAsync(client, HttpStatusCode.ServiceUnavailable);

            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            var json = JsonDocument.Parse(body).RootElement;
            Assert.Equal("Unhealthy", json.GetProperty("status").GetString());
            Assert.Equal("Unhealthy", json.GetProperty("checks").GetProperty("database").GetProperty("status").GetString());
            foreach (var check in json.GetProperty("checks").EnumerateObject())
            {
                Assert.Equal(["status"], check.Value.EnumerateObject().Select(p => p.Name));
            }
            Assert.DoesNotContain(database, body);
            Assert.DoesNotContain("PostgreSQL", body);
            Assert.DoesNotContain("connection", body, StringComparison.OrdinalIgnoreCase);
            Assert.Contains(app.Logs, l => l.Level >= LogLevel.Error && l.Text.Contains("database", StringComparison.Ordinal)
                                           && l.Text.Contains("PostgreSQL does not answer", StringComparison.Ordinal));
        }
        finally
        {
            await SetConnectionsAllowedAsync(database, true);
        }

        var (recovered, healthy) = await WaitForReadyStatusAsync(client, HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.OK, recovered);
        Assert.Contains("\"status\":\"Healthy\"", healthy);
    }

    /// <summary>Polls <c>/health/ready</c> (at most 30 s) until it answers <paramref name="wanted"/>; the last answer either way.</summary>
    private static async Task<(HttpStatusCode, string)> WaitForReadyStatusAsync(HttpClient client, HttpStatusCode wanted)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            using var response = await client.GetAsync("/health/ready");
            var body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == wanted || clock.Elapsed > TimeSpan.FromSeconds(30)) return (response.StatusCode, body);
            await Task.Delay(100);
        }
    }

    /// <summary>Opens or closes the test database to new connections, and ends the ones open now when closing it.</summary>
    private static async Task SetConnectionsAllowedAsync(string database, bool allowed)
    {
        await using var connection = await TestDatabase.OpenAsync(TestDatabase.ServerUrl);
        await using var alter = new NpgsqlCommand($"ALTER DATABASE \"{database}\" WITH ALLOW_CONNECTIONS {(allowed ? "true" : "false")}", connection);
        await alter.ExecuteNonQueryAsync();
        if (allowed) return;
        await using var terminate = new NpgsqlCommand(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = @name AND pid <> pg_backend_pid()", connection);
        terminate.Parameters.AddWithValue("name", database);
        await terminate.ExecuteScalarAsync();
    }
}
