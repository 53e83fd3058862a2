using System.Collections;
using Monolith.Domain.Jobs;

namespace Monolith.Worker.Engine;

/// <summary>
/// The fields every log line about a job carries: JobId, JobType, Attempt, Node, TenantId. Never the payload,
/// the result or anything secret. Renders as one readable line where a logger shows scopes as text.
/// </summary>
public sealed class JobLogScope(Job job, string node) : IReadOnlyList<KeyValuePair<string, object?>>
{
    private readonly KeyValuePair<string, object?>[] _fields =
    [
        new("JobId", job.Id),
        new("JobType", job.Type),
        new("Attempt", job.Attempt),
        new("Node", node),
        new("TenantId", job.TenantId),
    ];

    public int Count => _fields.Length;
    public KeyValuePair<string, object?> this[int index] => _fields[index];
    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, object?>>)_fields).GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => string.Join(' ', _fields.Select(f => $"{f.Key}:{f.Value}"));
}
