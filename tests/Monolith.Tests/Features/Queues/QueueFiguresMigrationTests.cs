using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Monolith.Domain.Persistence;
using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Features.Queues;

/// <summary>The QueueFigures migration counts the jobs that had already finished before it ran.</summary>
public sealed class QueueFiguresMigrationTests
{
    [Fact]
    public async Task Migration_SeedsTheTotals_FromJobsThatFinishedBeforeIt()
    {
        var url = await TestDatabase.CreateEmptyAsync(nameof(QueueFiguresMigrationTests));
        var options = new DbContextOptionsBuilder<MonolithDbContext>()
            .UseNpgsql(DatabaseUrl.ToConnectionString(url), npgsql => npgsql.MigrationsHistoryTable(DatabaseMigrator.HistoryTable))
            .UseSnakeCaseNamingConvention()
            .Options;
        await using var db = new MonolithDbContext(options);
        var migrator = db.GetService<IMigrator>();
        var migrations = db.Database.GetMigrations().ToList();
        var queueFigures = migrations.Single(m => m.EndsWith("_QueueFigures", StringComparison.Ordinal));
        await migrator.MigrateAsync(migrations[migrations.IndexOf(queueFigures) - 1]);

        var (alice, bob) = (Guid.NewGuid(), Guid.NewGuid());
        await QueueTestKit.ExecuteAsync(url, """
            INSERT INTO jobs (id, tenant_id, type, queue, priority, state, payload, attempt, max_attempts, backoff_seconds, created_at, scheduled_at)
            SELECT gen_random_uuid(), t.tenant, 'noop', t.queue, 0, t.state, '{}', 1, 3, 1, now(), now()
            FROM (VALUES (@alice, 'default', 'succeeded', 5), (@alice, 'low', 'failed', 2), (@alice, 'default', 'queued', 3),
                         (@bob, 'default', 'cancelled', 1), (@bob, 'default', 'running', 1)) AS t(tenant, queue, state, n),
                 generate_series(1, t.n)
            """, ("alice", alice), ("bob", bob));

        await migrator.MigrateAsync(queueFigures);

        Assert.Equal(5, await QueueTestKit.ScalarAsync(url,
            "SELECT count FROM queue_count_totals WHERE tenant_id = @t AND queue = 'default' AND state = 'succeeded'", ("t", alice)));
        Assert.Equal(2, await QueueTestKit.ScalarAsync(url,
            "SELECT count FROM queue_count_totals WHERE tenant_id = @t AND queue = 'low' AND state = 'failed'", ("t", alice)));
        Assert.Equal(1, await QueueTestKit.ScalarAsync(url,
            "SELECT count FROM queue_count_totals WHERE tenant_id = @t AND queue = 'default' AND state = 'cancelled'", ("t", bob)));
        Assert.Equal(3, await QueueTestKit.ScalarAsync(url, "SELECT count(*) FROM queue_count_totals"));
        Assert.Equal(0, await QueueTestKit.ScalarAsync(url, "SELECT count(*) FROM queue_count_deltas"));

        // From now on the triggers count: bob's running job finishes.
        await QueueTestKit.ExecuteAsync(url, "UPDATE jobs SET state = 'succeeded' WHERE tenant_id = @t AND state = 'running'", ("t", bob));
        Assert.Equal(1, await QueueTestKit.ScalarAsync(url,
            "SELECT sum(delta) FROM queue_count_deltas WHERE tenant_id = @t AND queue = 'default' AND state = 'succeeded'", ("t", bob)));

        // And the migration can be undone.
        await migrator.MigrateAsync(migrations[migrations.IndexOf(queueFigures) - 1]);
        Assert.Equal(0, await QueueTestKit.ScalarAsync(url, "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'jobs_queue_counts_%'"));
    }
}
