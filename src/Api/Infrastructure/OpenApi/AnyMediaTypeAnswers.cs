using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Monolith.Api.Infrastructure.OpenApi;

/// <summary>
/// Answers whose body is in whatever media type it was stored with (an upload's content): documented as
/// <c>*/*</c> binary, which ASP.NET Core's <c>Produces</c> cannot say (it refuses media ranges).
/// </summary>
public sealed record AnyMediaTypeAnswers(IReadOnlyList<int> Statuses);

public static class AnyMediaTypeAnswersExtensions
{
    /// <summary>Documents <paramref name="statuses"/> as answering bytes of any media type.</summary>
    public static RouteHandlerBuilder ProducesAnyMediaType(this RouteHandlerBuilder builder, params int[] statuses) =>
        builder.WithMetadata(new AnyMediaTypeAnswers(statuses));
}

/// <summary>Writes each <see cref="AnyMediaTypeAnswers"/> status as a <c>*/*</c> binary answer.</summary>
public sealed class AnyMediaTypeAnswersOperationFilter : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        foreach (var status in context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<AnyMediaTypeAnswers>().SelectMany(a => a.Statuses))
        {
            operation.Responses ??= [];
            operation.Responses[status.ToString()] = new OpenApiResponse
            {
                Description = status == StatusCodes.Status206PartialContent
                    ? "The requested range of the bytes, in the media type they were stored with."
                    : "The bytes, in the media type they were stored with.",
                Content = new Dictionary<string, IOpenApiMediaType>
                {
                    ["*/*"] = new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" } },
                },
            };
        }
    }
}
