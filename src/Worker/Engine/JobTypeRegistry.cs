using FluentValidation;

namespace Monolith.Worker.Engine;

/// <summary>Every job type the service knows, by kind. Filled once, in Jobs/JobTypes.cs.</summary>
public sealed class JobTypeRegistry
{
    private readonly Dictionary<string, JobTypeDefinition> _types = new(StringComparer.Ordinal);

    public IReadOnlyCollection<JobTypeDefinition> All => _types.Values;

    /// <summary>Registers a job type under a stable kind string (renaming a class must never change it).</summary>
    public JobTypeRegistry Add<THandler, TPayload, TValidator>(string kind, JobDefaults defaults)
        where THandler : class, IJobHandler<TPayload>
        where TValidator : class, IValidator<TPayload>, new()
    {
        _types.Add(kind, new JobTypeDefinition<THandler, TPayload, TValidator>(kind, defaults));
        return this;
    }

    public JobTypeDefinition? Find(string kind) => _types.GetValueOrDefault(kind);
}
