using FluentValidation;

namespace Monolith.Worker.Engine;

/// <summary>Every job type the service knows, by kind. Filled once, in Jobs/JobTypes.cs.</summary>
public sealed class JobTypeRegistry
{
    private readonly Dictionary<string, JobTypeDefinition> _types = new(StringComparer.Ordinal);
    private readonly Dictionary<Type, JobTypeDefinition> _byPayload = [];

    public IReadOnlyCollection<JobTypeDefinition> All => _types.Values;

    /// <summary>Registers a job type under a stable kind string (renaming a class must never change it).</summary>
    public JobTypeRegistry Add<THandler, TPayload, TValidator>(string kind, JobDefaults defaults)
        where THandler : class, IJobHandler<TPayload>
        where TValidator : class, IValidator<TPayload>, new()
    {
        var definition = new JobTypeDefinition<THandler, TPayload, TValidator>(kind, defaults);
        _types.Add(kind, definition);
        _byPayload.Add(typeof(TPayload), definition); // one type per payload type: features find their kind by it
        return this;
    }

    public JobTypeDefinition? Find(string kind) => _types.GetValueOrDefault(kind);

    /// <summary>
    /// The type whose payload is <typeparamref name="TPayload"/>: how a feature names the job it submits without
    /// writing the kind string again (it is written once, in Jobs/JobTypes.cs).
    /// </summary>
    public JobTypeDefinition Of<TPayload>() => _byPayload.GetValueOrDefault(typeof(TPayload))
        ?? throw new InvalidOperationException($"No job type takes a {typeof(TPayload).Name} payload.");
}
