namespace Monolith.Api.Infrastructure.OpenApi;

/// <summary>
/// What an endpoint enforces about one of its parameters (query, header or route), for the OpenAPI document
/// (<see cref="ParameterFactsOperationFilter"/>). Given where the endpoint is mapped, with the constants the handler
/// checks against, so that the two cannot drift apart.
/// </summary>
public sealed record ParameterFacts(
    string Name, bool Required, double? Minimum, double? Maximum, int? MaxLength, IReadOnlyList<string>? Values);

public static class ParameterFactsExtensions
{
    /// <summary>Documents what the handler enforces about parameter <paramref name="name"/>.</summary>
    public static RouteHandlerBuilder WithParameterFacts(
        this RouteHandlerBuilder builder, string name, bool required = false, double? minimum = null, double? maximum = null,
        int? maxLength = null, IEnumerable<string>? values = null) =>
        builder.WithMetadata(new ParameterFacts(name, required, minimum, maximum, maxLength, values?.ToList()));
}
