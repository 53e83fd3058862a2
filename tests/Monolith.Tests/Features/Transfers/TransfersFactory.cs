using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Features.Transfers;

/// <summary>
/// The service with its file store and its directory-destination root under fresh temporary directories (each
/// tenant's deliveries under <see cref="TenantDirectory"/>), a small upload limit, frequent progress, and every log
/// line it writes kept (<see cref="LogText"/>) so that a test can look for secrets in them.
/// </summary>
public sealed class TransfersFactory : MonolithFactory
{
    public const long MaxUploadBytes = 8 * 1024 * 1024;

    private readonly CapturingLoggerProvider _logs = new();

    public string StorageRoot { get; } = Path.Combine(Path.GetTempPath(), "monolith-uploads-" + Guid.NewGuid().ToString("N"));
    public string DirectoryRoot { get; } = Directory.CreateTempSubdirectory("monolith-outbox-").FullName;

    protected override Dictionary<string, string?> Settings => new(base.Settings)
    {
        ["Storage:Root"] = StorageRoot,
        ["Transfers:DirectoryRoot"] = DirectoryRoot,
        ["Transfers:ProgressIntervalBytes"] = (256 * 1024).ToString(),
        ["Uploads:MaxBytes"] = MaxUploadBytes.ToString(),
        ["Logging:LogLevel:Default"] = "Debug",
    };

    /// <summary>Settings over the ones above, given before the service starts: another file store (S3TransferTests).</summary>
    public Dictionary<string, string?> ExtraSettings { get; init; } = [];

    /// <summary>Every line logged so far: message, exception and structured values, one per line.</summary>
    public string LogText => _logs.Text;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        foreach (var (key, value) in ExtraSettings) builder.UseSetting(key, value);
        builder.ConfigureServices(services => services.AddSingleton<ILoggerProvider>(_logs));
    }

    /// <summary>Where a tenant's directory deliveries land: its own part of the root, named by its id.</summary>
    public string TenantDirectory(Guid tenantId) => Path.Combine(DirectoryRoot, tenantId.ToString());

    public string[] StoredFiles() => Directory.Exists(StorageRoot) ? Directory.GetFiles(StorageRoot, "*", SearchOption.AllDirectories) : [];

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (!disposing) return;
        if (Directory.Exists(StorageRoot)) Directory.Delete(StorageRoot, recursive: true);
        if (Directory.Exists(DirectoryRoot)) Directory.Delete(DirectoryRoot, recursive: true);
    }

    /// <summary>Keeps every log entry the service writes, with its exception and structured values.</summary>
    private sealed class CapturingLoggerProvider : ILoggerProvider, ISupportExternalScope
    {
        private readonly ConcurrentQueue<string> _lines = new();
        private IExternalScopeProvider? _scopes;

        public string Text => string.Join('\n', _lines);

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

        public void Dispose() { }

        private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => owner._scopes?.Push(state);

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var values = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(' ', pairs.Select(p => $"{p.Key}={p.Value}")) : "";
                var scopes = new List<string>();
                owner._scopes?.ForEachScope((scope, list) => list.Add(scope?.ToString() ?? ""), scopes);
                owner._lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)} {values} {string.Join(' ', scopes)} {exception}");
            }
        }
    }
}

public static class TransferClientExtensions
{
    /// <summary>POST /v1/uploads with <paramref name="content"/> as the raw body.</summary>
    public static async Task<UploadDto> UploadBytesAsync(this HttpClient client, byte[] content, string fileName = "report.pdf",
        string contentType = "application/pdf")
    {
        using var body = new ByteArrayContent(content);
        body.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        using var response = await client.PostAsync($"/v1/uploads?filename={Uri.EscapeDataString(fileName)}", body);
        await JobClientExtensions.EnsureSuccessAsync(response);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var upload = (await response.Content.ReadFromJsonAsync<UploadDto>(JobClientExtensions.Json))!;
        Assert.Equal($"/v1/uploads/{upload.Id}", response.Headers.Location!.OriginalString);
        return upload;
    }

    public static async Task<HttpResponseMessage> PostTransferAsync(this HttpClient client, object body) =>
        await client.PostAsJsonAsync("/v1/transfers", body, JobClientExtensions.Json);

    public static async Task<TransferCreatedDto> CreateTransferAsync(this HttpClient client, object body)
    {
        using var response = await client.PostTransferAsync(body);
        await JobClientExtensions.EnsureSuccessAsync(response);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var created = (await response.Content.ReadFromJsonAsync<TransferCreatedDto>(JobClientExtensions.Json))!;
        Assert.Equal($"/v1/transfers/{created.Id}", response.Headers.Location!.OriginalString);
        return created;
    }

    public static async Task<TransferDto> GetTransferAsync(this HttpClient client, Guid id)
    {
        using var response = await client.GetAsync($"/v1/transfers/{id}");
        await JobClientExtensions.EnsureSuccessAsync(response);
        return (await response.Content.ReadFromJsonAsync<TransferDto>(JobClientExtensions.Json))!;
    }

    /// <summary>Polls the transfer until it is completed, failed or cancelled, and its job has recorded its outcome.</summary>
    public static async Task<TransferDto> WaitUntilFinishedAsync(this HttpClient client, Guid id, TimeSpan? timeout = null)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var transfer = await client.GetTransferAsync(id);
            if (transfer.State is "completed" or "failed" or "cancelled" && transfer.Job?.State is "succeeded" or "failed" or "cancelled") return transfer;
            if (clock.Elapsed > (timeout ?? TimeSpan.FromSeconds(60)))
            {
                Assert.Fail($"Transfer {id} is still '{transfer.State}' (job: {transfer.Job?.State}, {transfer.Job?.LastError}).");
            }
            await Task.Delay(25);
        }
    }

    /// <summary>A validation problem's errors, after checking the status and the media type.</summary>
    public static async Task<Dictionary<string, string[]>> ProblemErrorsAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(JobClientExtensions.Json);
        return problem.GetProperty("errors").Deserialize<Dictionary<string, string[]>>(JobClientExtensions.Json)!;
    }
}

public sealed record UploadDto(Guid Id, string FileName, string ContentType, long SizeBytes, string Sha256, DateTimeOffset CreatedAt);

public sealed record TransferCreatedDto(Guid Id, Guid JobId, string State);

public sealed record TransferDto(
    Guid Id,
    string State,
    TransferSourceDto Source,
    TransferDestinationDto Destination,
    Dictionary<string, string> Metadata,
    long BytesMoved,
    long? SizeBytes,
    string? Sha256,
    DestinationAnswerDto? DestinationAnswer,
    string? Error,
    TransferJobDto? Job,
    List<AttemptDto> Attempts,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt);

public sealed record TransferSourceDto(string Type, Guid? UploadId, string? Url, List<string> HeaderNames);

public sealed record TransferDestinationDto(string Type, string? Url, string? Method, List<string> HeaderNames, List<string>? FormFields, string? Path);

public sealed record DestinationAnswerDto(int? Status, string? Location);

public sealed record TransferJobDto(Guid Id, string State, int Attempt, int MaxAttempts, ProgressDto? Progress, string? LastError);

public sealed record TransferPageDto(List<TransferDto> Items, string? NextCursor);
