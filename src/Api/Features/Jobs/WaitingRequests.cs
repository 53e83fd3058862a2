using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Monolith.Api.Features.Jobs;

/// <summary>
/// The places for requests waiting on a job on this node (<c>GET /v1/jobs/{id}?wait=</c>, <c>GET /v1/jobs/{id}/events</c>):
/// at most <see cref="JobsOptions.MaxWaitersPerTenant"/> per tenant and <see cref="JobsOptions.MaxWaiters"/> in all, so
/// that no tenant holds all of a node's connections and waiters. A request holds its place (a lease of the framework's
/// <see cref="ConcurrencyLimiter"/>s) for as long as it waits, or is refused at once: nobody queues for a place.
/// </summary>
public sealed class WaitingRequests : IDisposable
{
    /// <summary>What a refused client is told to wait (<c>Retry-After</c>): places free up as other waits end.</summary>
    public static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(5);

    private readonly JobsOptions _options;
    private readonly PartitionedRateLimiter<Guid> _perTenant;
    private readonly ConcurrencyLimiter _total;

    public WaitingRequests(IOptions<JobsOptions> options)
    {
        _options = options.Value;
        _perTenant = PartitionedRateLimiter.Create<Guid, Guid>(tenant => RateLimitPartition.GetConcurrencyLimiter(tenant,
            _ => new ConcurrencyLimiterOptions { PermitLimit = _options.MaxWaitersPerTenant, QueueLimit = 0 }));
        _total = new ConcurrencyLimiter(new ConcurrencyLimiterOptions { PermitLimit = _options.MaxWaiters, QueueLimit = 0 });
    }

    /// <summary>
    /// A place for a request of <paramref name="tenantId"/> (the admin's tenant for the admin), to dispose when it stops
    /// waiting; or null, with <paramref name="refusal"/> saying which cap is full.
    /// </summary>
    public IDisposable? TryEnter(Guid tenantId, out string refusal)
    {
        var tenant = _perTenant.AttemptAcquire(tenantId);
        if (!tenant.IsAcquired)
        {
            tenant.Dispose();
            refusal = $"This tenant already has {_options.MaxWaitersPerTenant} requests waiting on jobs on this node (Jobs:MaxWaitersPerTenant).";
            return null;
        }
        var total = _total.AttemptAcquire();
        if (!total.IsAcquired)
        {
            total.Dispose();
            tenant.Dispose();
            refusal = $"This node already holds {_options.MaxWaiters} requests waiting on jobs (Jobs:MaxWaiters).";
            return null;
        }
        refusal = "";
        return new Place(tenant, total);
    }

    public void Dispose()
    {
        _perTenant.Dispose();
        _total.Dispose();
    }

    /// <summary>Both leases, given back once however often it is disposed.</summary>
    private sealed class Place(RateLimitLease tenant, RateLimitLease total) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
            total.Dispose();
            tenant.Dispose();
        }
    }
}
