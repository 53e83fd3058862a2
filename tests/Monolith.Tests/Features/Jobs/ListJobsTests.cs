using System.Net.Http.Json;
using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Features.Jobs;

public sealed class ListJobsTests(MonolithFactory app) : IClassFixture<MonolithFactory>
{
    [Fact]
    public async Task List_PagesStay_StableWhileJobsAreAdded()
    {
        var client = await app.CreateTenantClientAsync();
        var submitted = new List<Guid>();
        for (var i = 0; i < 5; i++) submitted.Add((await client.SubmitJobAsync("noop", new { }, new { delaySeconds = 3600 })).Id);

        var first = await client.GetFromJsonAsync<JobPageDto>("/v1/jobs?limit=2", JobClientExtensions.Json);
        await client.SubmitJobAsync("noop", new { }, new { delaySeconds = 3600 }); // added between pages
        var second = await client.GetFromJsonAsync<JobPageDto>($"/v1/jobs?limit=2&cursor={first!.NextCursor}", JobClientExtensions.Json);
        var third = await client.GetFromJsonAsync<JobPageDto>($"/v1/jobs?limit=2&cursor={second!.NextCursor}", JobClientExtensions.Json);

        var seen = first.Items.Concat(second.Items).Concat(third!.Items).Select(j => j.Id).ToList();
        submitted.Reverse(); // newest first
        Assert.Equal(submitted, seen);
        Assert.Null(third.NextCursor);
    }

    [Fact]
    public async Task List_FiltersByStateTypeAndQueue()
    {
        var client = await app.CreateTenantClientAsync();
        var scheduled = await client.SubmitJobAsync("sleep", new { ms = 1 }, new { delaySeconds = 3600, queue = "low" });
        var done = await client.SubmitJobAsync("noop", new { });
        await client.WaitForStateAsync(done.Id, "succeeded");

        var byState = await client.GetFromJsonAsync<JobPageDto>("/v1/jobs?state=scheduled", JobClientExtensions.Json);
        var byType = await client.GetFromJsonAsync<JobPageDto>("/v1/jobs?type=noop", JobClientExtensions.Json);
        var byQueue = await client.GetFromJsonAsync<JobPageDto>("/v1/jobs?queue=low", JobClientExtensions.Json);
        var succeeded = await client.GetFromJsonAsync<JobPageDto>("/v1/jobs?state=succeeded", JobClientExtensions.Json);

        Assert.Equal([scheduled.Id], byState!.Items.Select(j => j.Id));
        Assert.Equal([done.Id], byType!.Items.Select(j => j.Id));
        Assert.Equal([scheduled.Id], byQueue!.Items.Select(j => j.Id));
        Assert.Equal([done.Id], succeeded!.Items.Select(j => j.Id));
    }
}
