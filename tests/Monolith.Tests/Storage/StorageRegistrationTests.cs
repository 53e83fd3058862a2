using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Monolith.Worker.Storage;

namespace Monolith.Tests.Storage;

/// <summary>
/// <c>Storage:Kind</c> chooses the store (local disk by default), and S3 settings that cannot work stop the service
/// at start with a message naming the setting, never a secret's value. Needs no server: nothing is sent.
/// </summary>
public sealed class StorageRegistrationTests
{
    private const string Secret = "secret-value-7d1e0b";

    private static ServiceProvider Services(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration);
        services.AddFileStore(configuration);
        services.AddFileStore(configuration); // as every feature asks: registered once
        return services.BuildServiceProvider();
    }

    [Fact]
    public void NoSettings_LocalDisk()
    {
        using var services = Services([]);

        Assert.IsType<LocalFileStore>(Assert.Single(services.GetServices<IFileStore>()));
    }

    [Fact]
    public void KindS3_TheS3Store()
    {
        using var services = Services(new()
        {
            ["Storage:Kind"] = "s3", ["Storage:S3:ServiceUrl"] = "http://127.0.0.1:9", ["Storage:S3:Bucket"] = "files",
            ["Storage:S3:AccessKeyId"] = "id", ["Storage:S3:SecretAccessKey"] = Secret,
        });

        Assert.IsType<S3FileStore>(Assert.Single(services.GetServices<IFileStore>()));
    }

    [Theory]
    [InlineData("Storage:S3:Bucket", "", "Bucket is required")]
    [InlineData("Storage:S3:ServiceUrl", "ftp://127.0.0.1", "ServiceUrl must be an absolute http or https address")]
    [InlineData("Storage:S3:ServiceUrl", "http://user:pass@127.0.0.1:9000", "without user information")]
    [InlineData("Storage:S3:AccessKeyId", "", "AccessKeyId and SecretAccessKey are set together")]
    [InlineData("Storage:S3:PartSizeBytes", "1048576", "PartSizeBytes must be between 5242880 and 536870912")]
    public void UnusableS3Settings_StopTheStart_NamingTheSetting(string setting, string value, string message)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Storage:Kind"] = "S3", ["Storage:S3:ServiceUrl"] = "http://127.0.0.1:9000", ["Storage:S3:Bucket"] = "files",
            ["Storage:S3:AccessKeyId"] = "id", ["Storage:S3:SecretAccessKey"] = Secret,
            [setting] = value,
        };
        using var services = Services(settings);

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<StorageOptions>>().Value);

        Assert.Contains(message, error.Message);
        Assert.DoesNotContain(Secret, error.Message);
    }
}
