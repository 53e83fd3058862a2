using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Monolith.Worker.Storage;

public static class FileStoreExtensions
{
    /// <summary>
    /// The file store chosen by <c>Storage:Kind</c>: local disk under <c>Storage:Root</c> (the default) or the S3 store
    /// under <c>Storage:S3</c>, its settings checked at start; registered once however many features ask.
    /// </summary>
    public static IServiceCollection AddFileStore(this IServiceCollection services, IConfiguration configuration)
    {
        if (services.Any(d => d.ServiceType == typeof(IFileStore))) return services;
        services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.Section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<StorageOptions>, StorageOptions.Validator>());
        services.AddSingleton<IFileStore>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
            if (options.Kind == StorageKind.S3) return new S3FileStore(options.S3);
            var root = options.Root is { Length: > 0 } configured ? configured : LocalFileStore.DefaultRoot;
            var contentRoot = sp.GetService<IHostEnvironment>()?.ContentRootPath ?? AppContext.BaseDirectory;
            return new LocalFileStore(Path.IsPathRooted(root) ? root : Path.Combine(contentRoot, root));
        });
        return services;
    }
}
