using FluentValidation;

namespace Monolith.Api.Features.Admin;

public sealed class CreateTenantRequestValidator : AbstractValidator<CreateTenantRequest>
{
    public CreateTenantRequestValidator() => RuleFor(r => r.Name).NotEmpty().MaximumLength(200);
}

public sealed class CreateApiKeyRequestValidator : AbstractValidator<CreateApiKeyRequest>
{
    public CreateApiKeyRequestValidator() => RuleFor(r => r.Name).MaximumLength(200);
}
