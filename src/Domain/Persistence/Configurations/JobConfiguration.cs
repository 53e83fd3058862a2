using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using Monolith.Domain.Jobs;

namespace Monolith.Domain.Persistence.Configurations;

public sealed class JobConfiguration : IEntityTypeConfiguration<Job>
{
    public void Configure(EntityTypeBuilder<Job> job)
    {
        job.ToTable("jobs");
        job.HasKey(j => j.Id);
        job.Property(j => j.Id).ValueGeneratedNever();
        job.Property(j => j.Type).HasMaxLength(100);
        job.Property(j => j.Queue).HasMaxLength(100);
        job.Property(j => j.State).HasMaxLength(20)
            .HasConversion(s => s.ToName(), s => Enum.Parse<JobState>(s, true));
        job.Property(j => j.Payload).HasColumnType("jsonb");
        job.Property(j => j.Result).HasColumnType("jsonb");
        job.Property(j => j.IdempotencyKey).HasMaxLength(200);
        job.Property(j => j.RequestHash).HasMaxLength(64);
        job.Property(j => j.UniqueKey).HasMaxLength(200);
        job.Property(j => j.UniqueScope).HasMaxLength(20).HasConversion(new ValueConverter<UniqueScope, string>(
            s => s.ToName(), s => s == "until_started" ? UniqueScope.UntilStarted : UniqueScope.UntilExecuted));
        job.Property(j => j.Node).HasMaxLength(200);
        job.Property(j => j.ProgressMessage).HasMaxLength(1000);
        job.Property(j => j.CallbackUrl).HasMaxLength(2000);
        job.Property(j => j.TraceParent).HasMaxLength(100);

        job.HasMany(j => j.Attempts).WithOne().HasForeignKey(a => a.JobId).OnDelete(DeleteBehavior.Cascade);

        // What a worker claims from: due jobs of one queue, best priority first, then oldest.
        job.HasIndex(j => new { j.Queue, j.Priority, j.ScheduledAt, j.Id })
            .HasDatabaseName("ix_jobs_claim")
            .IsDescending(false, true, false, false)
            .HasFilter("state IN ('scheduled', 'queued', 'retrying')");
        // The fair claim (monolith_claim, docs/engine.md "Fair share"): the tenants with waiting jobs in a queue, one
        // index probe each, and each tenant's best due jobs in priority order.
        job.HasIndex(j => new { j.Queue, j.TenantId, j.Priority, j.ScheduledAt, j.Id })
            .HasDatabaseName("ix_jobs_claim_tenant")
            .IsDescending(false, false, true, false, false)
            .HasFilter("state IN ('scheduled', 'queued', 'retrying')");
        // A tenant's listing, newest first by the time-ordered id (keyset paging).
        job.HasIndex(j => new { j.TenantId, j.Id }).HasDatabaseName("ix_jobs_tenant_id");
        job.HasIndex(j => new { j.TenantId, j.IdempotencyKey }).IsUnique()
            .HasDatabaseName("ux_jobs_idempotency_key").HasFilter("idempotency_key IS NOT NULL");
        // Unique jobs: at most one job per tenant and key inside its window (UniqueScopes.WindowSql). Partial: jobs
        // without a key, and jobs past their window, have no entry, so the engine's writes to them cost nothing here.
        job.HasIndex(j => new { j.TenantId, j.UniqueKey }).IsUnique()
            .HasDatabaseName("ux_jobs_unique_key").HasFilter(UniqueScopes.WindowSql);
        job.HasIndex(j => j.TicketId).HasDatabaseName("ix_jobs_running_ticket").HasFilter("state = 'running'");
        // Listings filtered by one column, newest first (GET /v1/jobs, the dashboard): each filter reads its own
        // index in id order and stops after a page, however few jobs match (docs/dashboard.md, "Page times").
        job.HasIndex(j => new { j.State, j.Id }).HasDatabaseName("ix_jobs_state_id");
        job.HasIndex(j => new { j.Type, j.Id }).HasDatabaseName("ix_jobs_type_id");
        job.HasIndex(j => new { j.Queue, j.Id }).HasDatabaseName("ix_jobs_queue_id");
        // GET /v1/queues counts waiting and running jobs from here: only the live backlog, however many finished
        // jobs the table keeps (finished ones are counted by triggers, docs/queues.md).
        // Retention (Worker/Maintenance/JobCleaner.cs) deletes the oldest finished jobs of a state from here. Partial:
        // waiting and running jobs, which are updated often, have no entry in it.
        job.HasIndex(j => new { j.State, j.FinishedAt })
            .HasDatabaseName("ix_jobs_finished")
            .HasFilter("state IN ('succeeded', 'failed', 'cancelled')");
        job.HasIndex(j => new { j.TenantId, j.Queue, j.State, j.ScheduledAt })
            .HasDatabaseName("ix_jobs_live")
            .HasFilter("state IN ('scheduled', 'queued', 'running', 'retrying')");
        // Results waiting to expire (ExpiredResultCleaner): only rows that still hold one, oldest deadline first.
        job.HasIndex(j => j.ResultExpiresAt)
            .HasDatabaseName("ix_jobs_result_expiry")
            .HasFilter("result_expires_at IS NOT NULL AND NOT result_expired");
    }
}
