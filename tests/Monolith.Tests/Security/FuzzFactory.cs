using System.Collections.Concurrent;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Monolith.Tests.Contract;

namespace Monolith.Tests.Security;

/// <summary>
/// The service for the fuzz test: contract violations are collected (the test reports them), not thrown; and the
/// exception behind each unhandled error is kept by request id (<see cref="ExceptionOf"/>), so that a 500 can be
/// reported with its cause (the answer itself shows only its trace id).
/// </summary>
public sealed class FuzzFactory : ContractFactory
{
    private readonly ExceptionLog _exceptions = new();

    protected override bool ThrowOnContractViolation => false;

    /// <summary>
    /// The authentication throttle (its own tests: AuthThrottleTests) would answer 429 to every request once the hostile
    /// API keys among the cases had tripped it, and the rest of the fuzz would reach no handler: it is set out of reach.
    /// </summary>
    protected override Dictionary<string, string?> Settings => new(base.Settings)
    {
        ["AuthThrottle:MaxFailures"] = "1000000",
    };

    /// <summary>The exception logged while answering the request with this trace id, as "Type: first line", or null.</summary>
    public string? ExceptionOf(string traceId) => _exceptions.Find(traceId);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureServices(services => services.AddSingleton<ILoggerProvider>(_exceptions));
    }

    /// <summary>Keeps the innermost exception of every error logged inside a request, by the request's id.</summary>
    private sealed class ExceptionLog : ILoggerProvider, ISupportExternalScope
    {
        private readonly ConcurrentDictionary<string, string> _byRequest = new();
        private IExternalScopeProvider? _scopes;

        public string? Find(string traceId) => _byRequest.GetValueOrDefault(traceId);

        public ILogger CreateLogger(string categoryName) => new Logger(this);

        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

        public void Dispose() { }

        private sealed class Logger(ExceptionLog owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => owner._scopes?.Push(state);

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (exception is null || logLevel < LogLevel.Error) return;
                string? requestId = null;
                owner._scopes?.ForEachScope((scope, _) =>
                {
                    if (scope is IEnumerable<KeyValuePair<string, object?>> values
                        && values.FirstOrDefault(v => v.Key == "RequestId").Value is string id)
                    {
                        requestId = id;
                    }
                }, (object?)null);
                if (requestId is null) return;
                var cause = exception.GetBaseException();
                owner._byRequest.TryAdd(requestId, $"{cause.GetType().Name}: {cause.Message.Split('\n')[0]}");
            }
        }
    }
}
