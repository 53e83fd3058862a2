using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Monolith.Worker.Storage;

namespace Monolith.Worker.Uploads;

public static class DirectUploadExtensions
{
    /// <summary>
    /// Pre-signed uploads: <see cref="DirectUploads"/> and its settings (<c>Uploads:*</c>), checked at start; and
    /// <see cref="UploadCopies"/>, how datasets and imports take a ready upload.
    /// </summary>
    public static IServiceCollection AddDirectUploads(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddFileStore(configuration);
        services.AddOptions<DirectUploadOptions>().BindConfiguration(DirectUploadOptions.Section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DirectUploadOptions>, DirectUploadOptions.Validator>());
        services.AddScoped<DirectUploads>();
        services.AddScoped<UploadCopies>();
        return services;
    }
}
