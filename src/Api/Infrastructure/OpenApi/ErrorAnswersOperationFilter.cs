using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.OpenApi;
using Monolith.Api.Features.Admin;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Monolith.Api.Infrastructure.OpenApi;

/// <summary>
/// The error answers every operation can give beside its own (404, 409, 413 of uploads are declared where the
/// endpoint is mapped), each an RFC 9457 problem body:
/// <list type="bullet">
/// <item>400: a malformed request (a parameter, header or body of the wrong form, text that cannot be stored).</item>
/// <item>401: the endpoint requires a key and none, or an unknown or revoked one, was sent.</item>
/// <item>403: an admin-only endpoint called with a tenant's key.</item>
/// <item>413, 415: an operation with a request body: too large for the server, or not of a media type it reads.</item>
/// <item>422: an operation with a request body: valid, but a value the database refused to store (<see cref="UnstorableJobExceptionHandler"/>).</item>
/// <item>429: too many requests (a cap on waiting connections, a throttle); retry after <c>Retry-After</c>.</item>
/// <item>503: the database, or the file store an operation needs, is unavailable; nothing was changed; retry after
/// <c>Retry-After</c> (<see cref="DatabaseUnavailableExceptionHandler"/>, <see cref="FileStoreUnavailableExceptionHandler"/>).</item>
/// </list>
/// Never a 500: an answer the document does not list is a defect (the contract tests check every answer).
/// </summary>
public sealed class ErrorAnswersOperationFilter : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var metadata = context.ApiDescription.ActionDescriptor.EndpointMetadata;
        var authorize = metadata.OfType<IAuthorizeData>().ToList();
        operation.Responses ??= [];

        Add(operation, context, "400", "The request is malformed: a parameter, header or body of the wrong form or out of its limits " +
                                       "(the problem's errors name each field by its JSON path).", typeof(HttpValidationProblemDetails));
        if (authorize.Count > 0)
        {
            Add(operation, context, "401", $"No API key in {ApiKeyAuthentication.HeaderName}, or an unknown or revoked one.");
        }
        if (authorize.Any(a => a.Policy == AdminApi.Policy))
        {
            Add(operation, context, "403", "Only the admin key (ADMIN_API_KEY) may do this; a tenant's key may not.");
        }
        if (operation.RequestBody?.Content is { Count: > 0 })
        {
            Add(operation, context, "413", "The body is larger than the server accepts.");
            Add(operation, context, "415", $"The body is not of a media type this operation reads ({string.Join(", ", operation.RequestBody.Content.Keys)}).");
            Add(operation, context, "422", "The body passed validation, but the database refused to store a value of it (the problem names " +
                                           "the refusal); nothing submitted with it by others is affected (UnstorableJobExceptionHandler).");
        }
        Add(operation, context, "429", "Too many requests (a cap on waiting connections, or a throttle): retry after the Retry-After header's seconds.",
            retryAfter: true);
        Add(operation, context, "503", "The database, or the file store the operation needs (S3), is unavailable: nothing was changed; " +
                                       "retry after the Retry-After header's seconds.",
            retryAfter: true);
    }

    private static void Add(OpenApiOperation operation, OperationFilterContext context, string status, string description,
        Type? body = null, bool retryAfter = false)
    {
        if (operation.Responses!.ContainsKey(status)) return;
        var schema = context.SchemaGenerator.GenerateSchema(body ?? typeof(ProblemDetails), context.SchemaRepository);
        var response = new OpenApiResponse
        {
            Description = description,
            Content = new Dictionary<string, IOpenApiMediaType> { ["application/problem+json"] = new OpenApiMediaType { Schema = schema } },
        };
        if (retryAfter)
        {
            response.Headers = new Dictionary<string, IOpenApiHeader>
            {
                ["Retry-After"] = new OpenApiHeader { Description = "Seconds to wait before trying again.", Schema = new OpenApiSchema { Type = JsonSchemaType.Integer } },
            };
        }
        operation.Responses[status] = response;
    }
}
