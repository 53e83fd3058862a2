using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Api.Infrastructure;
using Monolith.Domain.Jobs;
using Monolith.Tests.Infrastructure;
using Monolith.Worker.Engine;

namespace Monolith.Tests.Security;

/// <summary>
/// Single submits are group-committed (<see cref="SubmitCoalescer"/>): many requests, of many tenants, share one
/// transaction. No request of one tenant may fail because of what another tenant sent into the same batch.
/// </summary>
public sealed class GroupCommitIsolationTests(MonolithFactory app) : IClassFixture<MonolithFactory>
{
    [Fact]
    public async Task WhileATenantSendsHostileSubmits_AnotherTenantsSubmitsAreAllAccepted_AndAllRun()
    {
        var (_, hostile) = await TenantAsync();
        var (plainTenant, plain) = await TenantAsync();

        // NUL and a lone surrogate escape, in the payload and in a property name: text PostgreSQL refuses.
        string[] attacks =
        [
            """{"type":"noop","payload":{"echo":"\u0000"}}""",
            """{"type":"noop","payload":{"echo":"x\ud800"}}""",
            """{"type":"noop","payload":{"\u0000":"x"}}""",
            """{"type":"noop","payload":{"echo":"ok"},"callbackUrl":"http://example.com/\u0000"}""",
        ];
        var hostileRequests = Enumerable.Range(0, 200).Select(async i =>
        {
            using var response = await hostile.PostAsync("/v1/jobs", new StringContent(attacks[i % attacks.Length], Encoding.UTF8, "application/json"));
            return response.StatusCode;
        });
        var plainRequests = Enumerable.Range(0, 400).Select(async i =>
        {
            using var response = await plain.PostAsJsonAsync("/v1/jobs", new { type = "noop", payload = new { echo = $"plain-{i}" } });
            return (response.StatusCode, Body: await response.Content.ReadAsStringAsync());
        });

        var hostileAnswers = Task.WhenAll(hostileRequests);
        var plainAnswers = await Task.WhenAll(plainRequests);

        Assert.All(plainAnswers, a => Assert.True(a.StatusCode == HttpStatusCode.Accepted, $"{(int)a.StatusCode}: {a.Body}"));
        Assert.All(await hostileAnswers, status => Assert.Equal(HttpStatusCode.BadRequest, status));

        await using var db = app.CreateDbContext();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        int succeeded;
        while ((succeeded = await db.Jobs.CountAsync(j => j.TenantId == plainTenant && j.State == JobState.Succeeded)) < 400
               && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }
        Assert.Equal(400, succeeded);
    }

    [Fact]
    public async Task ARowPostgreSqlRefuses_FailsAlone_AndTheOtherRowsOfItsBatchAreStored()
    {
        var (tenant, _) = await TenantAsync();
        var coalescer = app.Services.GetRequiredService<SubmitCoalescer>();
        // Past every check of the API: the JSON text's \u0000 escape is what PostgreSQL's jsonb refuses (22P05).
        NewJob Job(string payload) => new(tenant, "noop", payload, "default", 0, DateTimeOffset.UtcNow, 1, null, 1, null, null);

        // Handed in at once, so they queue behind the write in flight and share batches with the bad one.
        var submits = Enumerable.Range(0, 101)
            .Select(i => coalescer.SubmitAsync(Job(i == 50 ? """{"echo":"\u0000"}""" : $$"""{"echo":"row-{{i}}"}"""), CancellationToken.None))
            .ToList();
        var outcomes = await Task.WhenAll(submits.Select(async t =>
        {
            try
            {
                return (Job: (await t).Job, Error: (Exception?)null);
            }
            catch (Exception ex)
            {
                return (Job: (Job?)null, Error: ex);
            }
        }));

        var failed = Assert.Single(outcomes, o => o.Error is not null);
        Assert.Same(outcomes[50].Error, failed.Error);
        var rejected = Assert.IsType<UnstorableJobException>(failed.Error);
        Assert.Equal("22P05", rejected.SqlState);
        await using var db = app.CreateDbContext();
        var stored = await db.Jobs.Where(j => j.TenantId == tenant).Select(j => j.Payload).ToListAsync();
        Assert.Equal(100, stored.Count);
        Assert.Equal(
            Enumerable.Range(0, 101).Where(i => i != 50).Select(i => $"row-{i}").Order(),
            stored.Select(p => System.Text.Json.JsonDocument.Parse(p).RootElement.GetProperty("echo").GetString()!).Order());
    }

    [Fact]
    public async Task AJobPostgreSqlRefuses_IsAnswered422NamingTheRefusal_NotA500()
    {
        var handler = ActivatorUtilities.CreateInstance<UnstorableJobExceptionHandler>(app.Services);
        var http = new DefaultHttpContext { RequestServices = app.Services };
        http.Response.Body = new MemoryStream();

        var handled = await handler.TryHandleAsync(http, new UnstorableJobException("22P05", new InvalidOperationException("refused")), CancellationToken.None);

        Assert.True(handled);
        Assert.Equal(StatusCodes.Status422UnprocessableEntity, http.Response.StatusCode);
        Assert.Equal("application/problem+json", http.Response.ContentType);
        var problem = JsonDocument.Parse(((MemoryStream)http.Response.Body).ToArray()).RootElement;
        Assert.Equal(422, problem.GetProperty("status").GetInt32());
        Assert.Contains("SQLSTATE 22P05", problem.GetProperty("detail").GetString());
        Assert.False(await handler.TryHandleAsync(http, new InvalidOperationException("not a refusal"), CancellationToken.None));
    }

    /// <summary>A fresh tenant: its id, and a client sending its key.</summary>
    private async Task<(Guid Id, HttpClient Client)> TenantAsync()
    {
        using var admin = app.CreateAdminClient();
        var created = await admin.PostJsonAsync<MonolithFactory.CreatedTenant>("/v1/admin/tenants", new { name = "isolation" });
        var client = app.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", created.ApiKey.Key);
        return (created.Tenant.Id, client);
    }
}
