using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Monolith.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Monolith.Tests.Processes;

/// <summary>
/// PostgreSQL restarted under load, on a server of this test's own: no accepted job is lost, none succeeds twice,
/// the nodes recover by themselves, and clients get 503 with Retry-After while it is away, never a 500.
/// </summary>
[Collection("Processes")]
public sealed class DatabaseRestartTests(ITestOutputHelper output)
{
    private const int Jobs = 2000;

    [Fact]
    public async Task Restart_UnderLoad_LosesNoJob_RunsNoneTwice_AndAnswers503MeanwhileNever500()
    {
        await using var postgres = await LocalPostgres.StartAsync("faults", 55435);
        var previous = Environment.GetEnvironmentVariable("MONOLITH_TEST_DATABASE_URL");
        string databaseUrl;
        try
        {
            Environment.SetEnvironmentVariable("MONOLITH_TEST_DATABASE_URL", postgres.ServerUrl);
            databaseUrl = await TestDatabase.CreateAsync("restart");
        }
        finally
        {
            Environment.SetEnvironmentVariable("MONOLITH_TEST_DATABASE_URL", previous);
        }
        await using var group = new ProcessGroup(databaseUrl);
        await group.StartAsync(new NodeSpec("api", "api-1"), new NodeSpec("worker", "worker-1"), new NodeSpec("worker", "worker-2"));

        await output.WithLogsOnFailureAsync(group, async () =>
        {
            using var client = group["api-1"].CreateClient();
            var accepted = new ConcurrentBag<Guid>();
            var statuses = new ConcurrentDictionary<HttpStatusCode, int>();
            var retryAfterOn503 = 0;
            var next = -1;
            var restarted = false;
            var clock = Stopwatch.StartNew();
            TimeSpan restartStarted = default, restartEnded = default;

            async Task SubmitLoopAsync()
            {
                while (Interlocked.Increment(ref next) < Jobs)
                {
                    while (true) // a client that retries on 503, as the Retry-After asks
                    {
                        HttpResponseMessage response;
                        try
                        {
                            response = await client.PostAsJsonAsync("/v1/jobs", new { type = "sleep", payload = new { ms = 20 } });
                        }
                        catch (HttpRequestException)
                        {
                            statuses.AddOrUpdate(0, 1, (_, n) => n + 1);
                            await Task.Delay(200);
                            continue;
                        }
                        using (response)
                        {
                            statuses.AddOrUpdate(response.StatusCode, 1, (_, n) => n + 1);
                            if (response.StatusCode == HttpStatusCode.Accepted)
                            {
                                accepted.Add((await response.Content.ReadFromJsonAsync<JobDto>(JobClientExtensions.Json))!.Id);
                                break;
                            }
                            if (response.StatusCode == HttpStatusCode.ServiceUnavailable && response.Headers.RetryAfter is not null)
                            {
                                Interlocked.Increment(ref retryAfterOn503);
                            }
                            await Task.Delay(200);
                        }
                    }
                }
            }

            var submitters = Enumerable.Range(0, 8).Select(_ => Task.Run(SubmitLoopAsync)).ToArray();
            await ProcessTestKit.WaitUntilAsync("a third of the jobs accepted", TimeSpan.FromSeconds(60),
                () => Task.FromResult(accepted.Count >= Jobs / 3), () => Task.FromResult($"{accepted.Count} accepted"));
            restartStarted = clock.Elapsed;
            await postgres.RestartAsync();
            restartEnded = clock.Elapsed;
            restarted = true;
            await Task.WhenAll(submitters);

            var ids = accepted.ToArray();
            await ProcessTestKit.WaitAllSucceededAsync(databaseUrl, ids, TimeSpan.FromSeconds(180));
            var succeededTwice = await ProcessTestKit.ScalarAsync<long>(databaseUrl, """
                SELECT count(*) FROM (SELECT job_id FROM job_attempts WHERE outcome = 'succeeded' AND job_id = ANY(@ids)
                                      GROUP BY job_id HAVING count(*) > 1) twice
                """, ("ids", ids));
            var reran = await ProcessTestKit.ScalarAsync<long>(databaseUrl,
                "SELECT count(*) FROM jobs WHERE id = ANY(@ids) AND attempt > 1", ("ids", ids));

            output.Report($"PostgreSQL restart took {(restartEnded - restartStarted).TotalSeconds:0.0} s, " +
                          $"{restartStarted.TotalSeconds:0.0} s into the run; {ids.Length} jobs accepted, all succeeded " +
                          $"{clock.Elapsed.TotalSeconds:0.0} s after the first submit; {reran} ran more than once " +
                          $"(attempt > 1); answers: {string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{(int)s.Key}×{s.Value}"))}");
            Assert.True(restarted);
            Assert.Equal(Jobs, ids.Length);
            Assert.Equal(0, succeededTwice);
            Assert.False(statuses.ContainsKey(HttpStatusCode.InternalServerError), "a request got a 500");
            Assert.Equal(statuses.GetValueOrDefault(HttpStatusCode.ServiceUnavailable), retryAfterOn503);
            Assert.All(group.Nodes, n => Assert.False(n.HasExited, $"{n.InstanceId} exited"));
            using var afterwards = group["worker-1"].CreateClient();
            Assert.Equal(HttpStatusCode.OK, (await afterwards.GetAsync("/health/ready")).StatusCode);
        });
    }
}
