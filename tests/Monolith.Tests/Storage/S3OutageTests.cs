using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Monolith.Tests.Features.Datasets;
using Monolith.Tests.Features.Queues;
using Monolith.Tests.Features.Transfers;
using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Storage;

/// <summary>
/// The S3 store goes away (its server stopped) while the API is up: every request that needs it answers 503 with
/// Retry-After and a problem saying the file store is unavailable (not a 400 blaming the client's body, not a 500,
/// not "the database is unavailable"), without the store's address or error in the answer; nothing is half kept.
/// (A streamed upload or a dataset's file used to be a 400 "the multipart body is malformed" naming the store's address.)
/// </summary>
public sealed class S3OutageTests
{
    [Fact]
    public async Task StoreDown_UploadCompleteContentRangeAndDatasetFile_Answer503WithRetryAfter_AndKeepNothing()
    {
        var s3 = await S3rver.StartAsync();
        var stopped = false;
        await using var app = new TransfersFactory { ExtraSettings = new(s3.ServiceSettings()) };
        try
        {
            await app.InitializeAsync();
            var (client, _) = await app.CreateTenantAsync();
            var ready = await client.UploadBytesAsync(RandomNumberGenerator.GetBytes(1024));
            var declared = RandomNumberGenerator.GetBytes(2048);
            var pending = await PresignedUploads.StartAsync(client, declared);
            using (var put = await PresignedUploads.PutAsync(pending, new ByteArrayContent(declared))) Assert.Equal(HttpStatusCode.OK, put.StatusCode);

            await s3.DisposeAsync();
            stopped = true;

            using var body = new ByteArrayContent(RandomNumberGenerator.GetBytes(4096));
            body.Headers.ContentType = new MediaTypeHeaderValue("application/pdf");
            await AssertUnavailableAsync(await client.PostAsync("/v1/uploads?filename=late.pdf", body), s3.Url);
            await AssertUnavailableAsync(await PresignedUploads.CompleteAsync(client, pending.Id), s3.Url);
            await AssertUnavailableAsync(await client.GetAsync($"/v1/uploads/{ready.Id}/content"), s3.Url);
            using (var ranged = new HttpRequestMessage(HttpMethod.Get, $"/v1/uploads/{ready.Id}/content") { Headers = { Range = new RangeHeaderValue(0, 9) } })
            {
                await AssertUnavailableAsync(await client.SendAsync(ranged), s3.Url);
            }
            using (var files = new TestFiles())
            {
                await AssertUnavailableAsync(await client.UploadAsync(files.WriteText("yob2020.txt", TestFiles.YobLines(10)), "US"), s3.Url);
            }
            Assert.Empty(await StatesAsync(app, "SELECT state FROM datasets"));

            var states = await StatesAsync(app, "SELECT state FROM uploads WHERE file_name IN ('late.pdf', 'scan.pdf') ORDER BY file_name");
            Assert.Equal(["pending"], states); // late.pdf was not kept; scan.pdf can still be completed when the store is back
        }
        finally
        {
            if (!stopped) await s3.DisposeAsync();
        }
    }

    private static async Task<List<string>> StatesAsync(TransfersFactory app, string sql)
    {
        await using var connection = await TestDatabase.OpenAsync(app.DatabaseUrl);
        await using var command = new Npgsql.NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync()) rows.Add(reader.GetString(0));
        return rows;
    }

    private static async Task AssertUnavailableAsync(HttpResponseMessage response, string storeUrl)
    {
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{(int)response.StatusCode} {text}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.True(response.Headers.RetryAfter?.Delta > TimeSpan.Zero, "no Retry-After");
            var problem = JsonDocument.Parse(text).RootElement;
            Assert.Equal(503, problem.GetProperty("status").GetInt32());
            Assert.Equal("The file store is unavailable.", problem.GetProperty("title").GetString());
            Assert.DoesNotContain(new Uri(storeUrl).Authority, text);
            Assert.DoesNotContain("S3", text);
        }
    }
}
