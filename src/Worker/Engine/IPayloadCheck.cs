namespace Monolith.Worker.Engine;

/// <summary>
/// A job type's rules that need stored state (an upload the tenant can see), which its FluentValidation validator
/// cannot check: register one in DI for the payload type and <c>POST /v1/jobs</c> (single and batch) runs it after the
/// shape rules passed, answering 400 with its failures (<see cref="JobTypeDefinition.CheckAsync"/>).
/// </summary>
public interface IPayloadCheck<in TPayload>
{
    /// <summary>Failures keyed by the field's path inside the payload (<c>documents[0].uploadId</c>); empty when none.</summary>
    Task<Dictionary<string, string[]>> CheckAsync(TPayload payload, Guid tenantId, CancellationToken ct);
}
