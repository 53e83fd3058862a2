using System.Net;
using Amazon.Runtime;

namespace Monolith.Worker.Storage;

/// <summary>
/// The S3 client's HTTP connections: no proxy taken from the environment (<c>HTTP_PROXY</c>), no redirects followed,
/// bodies never decompressed (a stored file is returned byte for byte), pooled connections renewed every few minutes
/// (DNS changes). One <see cref="HttpClient"/> per S3 client, disposed with it.
/// </summary>
internal sealed class S3HttpClientFactory : HttpClientFactory
{
    public override HttpClient CreateHttpClient(IClientConfig clientConfig) =>
        new(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            ConnectTimeout = TimeSpan.FromSeconds(10),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        })
        {
            // The SDK bounds each request itself (ClientConfig.Timeout); a GET's body is read after this returns.
            Timeout = clientConfig.Timeout ?? TimeSpan.FromSeconds(100),
        };

    public override bool UseSDKHttpClientCaching(IClientConfig clientConfig) => true;

    public override bool DisposeHttpClientsAfterUse(IClientConfig clientConfig) => false;

    public override string? GetConfigUniqueString(IClientConfig clientConfig) => null;
}
