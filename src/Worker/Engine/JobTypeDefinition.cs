using System.Text.Json;
using FluentValidation;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Domain.Jobs;
using Monolith.Domain.Secrets;

namespace Monolith.Worker.Engine;

/// <summary>One registered job type: its kind, payload type, defaults, and how to validate and run it.</summary>
public abstract class JobTypeDefinition(string kind, Type payloadType, JobDefaults defaults)
{
    /// <summary>
    /// How payloads are read: camelCase names as in the API, and an unknown field is an error rather than
    /// silently ignored (a typo such as <c>mss</c> must not become a default).
    /// </summary>
    public static readonly JsonSerializerOptions PayloadJson = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
    };

    public string Kind { get; } = kind;
    public Type PayloadType { get; } = payloadType;
    public JobDefaults Defaults { get; } = defaults;

    /// <summary>
    /// Reads and validates a submitted payload. Errors are keyed by the JSON path the client sent,
    /// under <c>payload</c> (<c>payload.ms</c>), as RFC 9457 validation problems expect.
    /// </summary>
    public abstract Dictionary<string, string[]> Validate(JsonElement payload, IServiceProvider services);

    /// <summary>
    /// The type's rules on stored state (<see cref="IPayloadCheck{TPayload}"/>, when one is registered) for a payload
    /// <see cref="Validate"/> passed; failures keyed as <see cref="Validate"/> keys them.
    /// </summary>
    public abstract Task<Dictionary<string, string[]>> CheckAsync(JsonElement payload, Guid tenantId, IServiceProvider services, CancellationToken ct);

    /// <summary>
    /// The payload as it is stored: as submitted, except that a payload type with secrets
    /// (<see cref="ISecretPayload{TSelf}"/>) has them encrypted for <paramref name="tenantId"/>. Call after
    /// <see cref="Validate"/> found no error.
    /// </summary>
    public abstract string PreparePayload(JsonElement payload, Guid tenantId, JobSecrets secrets);

    /// <summary>
    /// The one way a job is built: this type's defaults under what the submitter set, and the payload as it is
    /// stored (<see cref="PreparePayload"/>). Call after <see cref="Validate"/> found no error (a feature's own payload,
    /// built by the service, needs no validation).
    /// </summary>
    public NewJob NewJob(Guid tenantId, JsonElement payload, JobSecrets secrets, JobSettings settings, DateTimeOffset now) =>
        NewJobOfStoredPayload(tenantId, PreparePayload(payload, tenantId, secrets), settings, now);

    /// <summary>
    /// As <see cref="NewJob(Guid, JsonElement, JobSecrets, JobSettings, DateTimeOffset)"/>, from a payload already as it is
    /// stored (<see cref="PreparePayload"/> ran when it was accepted): a schedule's template, prepared once at create time,
    /// submits its stored payload at every firing.
    /// </summary>
    public NewJob NewJobOfStoredPayload(Guid tenantId, string storedPayloadJson, JobSettings settings, DateTimeOffset now) => new(
        TenantId: tenantId,
        Type: Kind,
        PayloadJson: storedPayloadJson,
        Queue: settings.Queue ?? Defaults.Queue,
        Priority: settings.Priority ?? 0,
        RunAt: settings.RunAt ?? now,
        MaxAttempts: settings.MaxAttempts ?? Defaults.MaxAttempts,
        TimeoutSeconds: settings.TimeoutSeconds ?? Defaults.TimeoutSeconds,
        BackoffSeconds: settings.BackoffSeconds ?? Defaults.BackoffSeconds,
        ResultTtlSeconds: settings.ResultTtlSeconds ?? Defaults.ResultTtlSeconds,
        IdempotencyKey: settings.IdempotencyKey,
        RequestHash: null,
        CallbackUrl: settings.CallbackUrl,
        UniqueKey: settings.UniqueKey,
        UniqueScope: settings.UniqueKey is null ? null : settings.UniqueScope ?? UniqueScope.UntilExecuted);

    /// <summary>
    /// Runs the handler on a stored payload (its secrets decrypted first). <paramref name="services"/> is the root
    /// provider: a handler whose constructor takes services gets them from a DI scope of its own attempt; one that takes
    /// none is simply created, with no scope (the cheap path of short jobs).
    /// </summary>
    public abstract Task<object?> RunAsync(string payloadJson, JobContext context, IServiceProvider services, CancellationToken ct);

    /// <summary>
    /// A handler's return value as JSON, or null when it returned nothing. <see cref="JobExecutor"/> then makes it
    /// storable and, when results are secret (<see cref="JobDefaults.SecretResult"/>), encrypts it.
    /// </summary>
    public static string? SerializeResult(object? value) => value is null ? null : JsonSerializer.Serialize(value, PayloadJson);
}

/// <summary>The typed definition <see cref="JobTypeRegistry.Add{THandler,TPayload,TValidator}"/> creates.</summary>
public sealed class JobTypeDefinition<THandler, TPayload, TValidator>(string kind, JobDefaults defaults)
    : JobTypeDefinition(kind, typeof(TPayload), defaults)
    where THandler : class, IJobHandler<TPayload>
    where TValidator : class, IValidator<TPayload>, new()
{
    private static readonly TValidator Validator = new();

    public override Dictionary<string, string[]> Validate(JsonElement payload, IServiceProvider services)
    {
        if (payload.ValueKind != JsonValueKind.Object)
        {
            return new() { ["payload"] = ["The payload must be a JSON object."] };
        }

        TPayload? value;
        try
        {
            value = payload.Deserialize<TPayload>(PayloadJson);
        }
        catch (JsonException ex)
        {
            var path = string.IsNullOrEmpty(ex.Path) || ex.Path == "$" ? "payload" : "payload" + ex.Path.TrimStart('$');
            return new() { [path] = [DescribeJsonError(ex)] };
        }
        if (value is null) return new() { ["payload"] = ["The payload must be a JSON object."] };

        var result = Validator.Validate(value);
        return result.Errors
            .GroupBy(e => "payload." + JsonNamingPolicy.CamelCase.ConvertName(e.PropertyName))
            .ToDictionary(g => g.Key, g => g.Select(e => e.ErrorMessage).ToArray());
    }

    public override async Task<Dictionary<string, string[]>> CheckAsync(JsonElement payload, Guid tenantId, IServiceProvider services, CancellationToken ct)
    {
        if (services.GetService<IPayloadCheck<TPayload>>() is not { } check) return [];
        var failures = await check.CheckAsync(payload.Deserialize<TPayload>(PayloadJson)!, tenantId, ct);
        return failures.ToDictionary(f => "payload." + f.Key, f => f.Value);
    }

    public override string PreparePayload(JsonElement payload, Guid tenantId, JobSecrets secrets)
    {
        if (!typeof(ISecretPayload<TPayload>).IsAssignableFrom(typeof(TPayload))) return payload.GetRawText();
        var value = (ISecretPayload<TPayload>)payload.Deserialize<TPayload>(PayloadJson)!;
        return JsonSerializer.Serialize(value.Protect(secrets.ForPayload(tenantId)), PayloadJson);
    }

    public override Task<object?> RunAsync(string payloadJson, JobContext context, IServiceProvider services, CancellationToken ct)
    {
        var payload = JsonSerializer.Deserialize<TPayload>(payloadJson, PayloadJson)
            ?? throw new PermanentJobException("The stored payload is empty.");
        if (payload is ISecretPayload<TPayload> secret)
        {
            try
            {
                payload = secret.Unprotect(services.GetRequiredService<JobSecrets>().ForPayload(context.TenantId));
            }
            catch (SecretUnreadableException ex)
            {
                // Its key was removed from Secrets:Keys (or the row was altered): no attempt can ever succeed.
                throw new PermanentJobException($"The payload's secrets cannot be decrypted: {ex.Message}");
            }
        }
        return NeedsScope ? RunScopedAsync(payload, context, services, ct) : CreateHandler!(services, []).HandleAsync(payload, context, ct);
    }

    /// <summary>Whether the handler takes services, and so runs in a DI scope of its own.</summary>
    private static readonly bool NeedsScope = typeof(THandler).GetConstructor(Type.EmptyTypes) is null;

    private static readonly ObjectFactory<THandler>? CreateHandler = NeedsScope ? null : ActivatorUtilities.CreateFactory<THandler>([]);

    private static async Task<object?> RunScopedAsync(TPayload payload, JobContext context, IServiceProvider services, CancellationToken ct)
    {
        await using var scope = services.CreateAsyncScope();
        return await ActivatorUtilities.GetServiceOrCreateInstance<THandler>(scope.ServiceProvider).HandleAsync(payload, context, ct);
    }

    /// <summary>System.Text.Json's messages name .NET types; clients get a plain reason instead.</summary>
    private static string DescribeJsonError(JsonException ex) =>
        ex.Message.Contains("could not be mapped", StringComparison.Ordinal) ? "This field is not part of the payload."
        : ex.Message.Contains("missing required properties", StringComparison.Ordinal) ? "A required field is missing."
        : "The value has the wrong type or format.";
}
