using Microsoft.Extensions.Options;

namespace Monolith.Worker.Engine;

/// <summary>
/// Orders the queues for one claim, as Sidekiq's weighted queues do: the first is drawn at random in proportion
/// to its weight, then the rest likewise. A heavier queue is tried first more often, and every queue is tried
/// first sometimes, so none starves.
/// </summary>
public sealed class QueueSelector(IOptions<WorkerOptions> options)
{
    private readonly KeyValuePair<string, int>[] _queues = options.Value.EffectiveQueues.ToArray();

    public IReadOnlyCollection<string> Names => _queues.Select(q => q.Key).ToArray();

    public bool IsKnown(string queue) => _queues.Any(q => q.Key == queue);

    /// <summary>What a client is told when it names a queue that is not configured: the queues there are.</summary>
    public string UnknownQueueMessage => $"Unknown queue. Queues: {string.Join(", ", Names)}.";

    public List<string> NextOrder()
    {
        var remaining = _queues.ToList();
        var order = new List<string>(remaining.Count);
        while (remaining.Count > 0)
        {
            var draw = Random.Shared.Next(remaining.Sum(q => Math.Max(q.Value, 1)));
            var index = 0;
            while (draw >= Math.Max(remaining[index].Value, 1)) draw -= Math.Max(remaining[index++].Value, 1);
            order.Add(remaining[index].Key);
            remaining.RemoveAt(index);
        }
        return order;
    }
}
