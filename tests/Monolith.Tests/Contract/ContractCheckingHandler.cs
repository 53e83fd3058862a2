using System.Collections.Concurrent;

namespace Monolith.Tests.Contract;

/// <summary>
/// Sits between a test's HttpClient and the service and holds every answer of an API operation to the service's
/// own OpenAPI document (<see cref="OpenApiContract"/>). Each violation is recorded in <see cref="ContractViolations"/>
/// and, unless the owner only collects them (the fuzz test), fails the request at once with
/// <see cref="ContractViolationException"/>, so the test that provoked it names it. Streams (server-sent events,
/// documents) are not read: their status and media type are checked, not their bytes.
/// </summary>
public sealed class ContractCheckingHandler(Func<Task<OpenApiContract?>> contract, ContractViolations violations, bool throwOnViolation)
    : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        var response = await base.SendAsync(request, ct);
        var path = request.RequestUri!.AbsolutePath;
        if (!path.StartsWith("/v1/", StringComparison.Ordinal) || await contract() is not { } document) return response;
        if (document.Find(request.Method.Method, path) is not { } operation) return response;

        var found = await document.CheckAsync(operation, request.Method, response);
        if (found.Count == 0) return response;
        var described = found.Select(f => $"{operation} ({operation.OperationId}) for {request.Method} {Shorten(request.RequestUri.PathAndQuery)}: {f}").ToList();
        foreach (var violation in described) violations.Add(violation);
        if (!throwOnViolation) return response;
        response.Dispose();
        throw new ContractViolationException(string.Join(Environment.NewLine, described));
    }

    private static string Shorten(string text) => text.Length <= 200 ? text : text[..200] + "…";
}

/// <summary>Answers that broke the OpenAPI document, as recorded by <see cref="ContractCheckingHandler"/>.</summary>
public sealed class ContractViolations
{
    private readonly ConcurrentQueue<string> _all = new();

    public void Add(string violation) => _all.Enqueue(violation);

    public IReadOnlyList<string> All => _all.ToList();

    /// <summary>Every violation recorded so far, which are then forgotten (a test that reports them itself).</summary>
    public IReadOnlyList<string> TakeAll()
    {
        var taken = new List<string>();
        while (_all.TryDequeue(out var violation)) taken.Add(violation);
        return taken;
    }

    /// <summary>Fails with every distinct violation recorded so far (at most 30 listed).</summary>
    public void AssertNone()
    {
        var distinct = _all.Distinct().ToList();
        if (distinct.Count == 0) return;
        Assert.Fail($"{distinct.Count} answer(s) broke the OpenAPI document:{Environment.NewLine}" +
                    string.Join(Environment.NewLine, distinct.Take(30)));
    }
}

public sealed class ContractViolationException(string message) : Exception(message);
