using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Monolith.Domain.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class QueueFigures : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Writes to jobs wait until this migration commits (it runs in one transaction), so the seeded totals
            // below and the triggers that keep them count every job exactly once, whatever other nodes do meanwhile.
            migrationBuilder.Sql("LOCK TABLE jobs IN SHARE ROW EXCLUSIVE MODE;");

            migrationBuilder.CreateTable(
                name: "queue_count_deltas",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    tenant_id = table.Column<Guid>(type: "uuid", nullable: false),
                    queue = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    state = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    delta = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_queue_count_deltas", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "queue_count_totals",
                columns: table => new
                {
                    tenant_id = table.Column<Guid>(type: "uuid", nullable: false),
                    queue = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    state = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    count = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_queue_count_totals", x => new { x.tenant_id, x.queue, x.state });
                });

            migrationBuilder.CreateTable(
                name: "queue_pauses",
                columns: table => new
                {
                    queue = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    paused_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    paused_by = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_queue_pauses", x => x.queue);
                });

            migrationBuilder.CreateIndex(
                name: "ix_jobs_live",
                table: "jobs",
                columns: new[] { "tenant_id", "queue", "state", "scheduled_at" },
                filter: "state IN ('scheduled', 'queued', 'running', 'retrying')");

            migrationBuilder.Sql(CountTriggers);

            // Jobs that finished before this migration: the triggers only see changes from now on.
            migrationBuilder.Sql("""
                INSERT INTO queue_count_totals (tenant_id, queue, state, count)
                SELECT tenant_id, queue, state, count(*)
                FROM jobs
                WHERE state IN ('succeeded', 'failed', 'cancelled')
                GROUP BY tenant_id, queue, state;
                """);
        }

        /// <summary>
        /// Statement-level triggers on jobs that keep the terminal-state counts (docs/queues.md). Each appends one
        /// row per (tenant, queue, terminal state) the statement changed, summed over its rows (REFERENCING transition
        /// tables), to the append-only queue_count_deltas: a batch of jobs finishing is one small insert, and writers
        /// on many nodes never wait on a shared counter row. Rows whose state did not change (progress, a claim,
        /// a cancel request) append nothing; the update trigger returns at once when no terminal state is involved.
        /// Transition tables need one trigger per event. TRUNCATE empties the counters with the table.
        /// </summary>
        private const string CountTriggers = """
            CREATE FUNCTION queue_counts_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO queue_count_deltas (tenant_id, queue, state, delta)
                SELECT tenant_id, queue, state, count(*)
                FROM new_rows
                WHERE state IN ('succeeded', 'failed', 'cancelled')
                GROUP BY tenant_id, queue, state;
                RETURN NULL;
            END $$;

            CREATE FUNCTION queue_counts_after_update() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NOT EXISTS (SELECT 1 FROM new_rows WHERE state IN ('succeeded', 'failed', 'cancelled'))
                   AND NOT EXISTS (SELECT 1 FROM old_rows WHERE state IN ('succeeded', 'failed', 'cancelled')) THEN
                    RETURN NULL;
                END IF;
                INSERT INTO queue_count_deltas (tenant_id, queue, state, delta)
                SELECT d.tenant_id, d.queue, d.state, sum(d.delta)
                FROM old_rows o
                JOIN new_rows n ON n.id = o.id
                CROSS JOIN LATERAL (VALUES (o.tenant_id, o.queue, o.state, -1),
                                           (n.tenant_id, n.queue, n.state, 1)) AS d(tenant_id, queue, state, delta)
                WHERE (o.tenant_id, o.queue, o.state) IS DISTINCT FROM (n.tenant_id, n.queue, n.state)
                  AND d.state IN ('succeeded', 'failed', 'cancelled')
                GROUP BY d.tenant_id, d.queue, d.state
                HAVING sum(d.delta) <> 0;
                RETURN NULL;
            END $$;

            CREATE FUNCTION queue_counts_after_delete() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO queue_count_deltas (tenant_id, queue, state, delta)
                SELECT tenant_id, queue, state, -count(*)
                FROM old_rows
                WHERE state IN ('succeeded', 'failed', 'cancelled')
                GROUP BY tenant_id, queue, state;
                RETURN NULL;
            END $$;

            CREATE FUNCTION queue_counts_after_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                DELETE FROM queue_count_deltas;
                DELETE FROM queue_count_totals;
                RETURN NULL;
            END $$;

            CREATE TRIGGER jobs_queue_counts_insert AFTER INSERT ON jobs
                REFERENCING NEW TABLE AS new_rows
                FOR EACH STATEMENT EXECUTE FUNCTION queue_counts_after_insert();
            CREATE TRIGGER jobs_queue_counts_update AFTER UPDATE ON jobs
                REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
                FOR EACH STATEMENT EXECUTE FUNCTION queue_counts_after_update();
            CREATE TRIGGER jobs_queue_counts_delete AFTER DELETE ON jobs
                REFERENCING OLD TABLE AS old_rows
                FOR EACH STATEMENT EXECUTE FUNCTION queue_counts_after_delete();
            CREATE TRIGGER jobs_queue_counts_truncate AFTER TRUNCATE ON jobs
                FOR EACH STATEMENT EXECUTE FUNCTION queue_counts_after_truncate();
            """;

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                DROP TRIGGER jobs_queue_counts_insert ON jobs;
                DROP TRIGGER jobs_queue_counts_update ON jobs;
                DROP TRIGGER jobs_queue_counts_delete ON jobs;
                DROP TRIGGER jobs_queue_counts_truncate ON jobs;
                DROP FUNCTION queue_counts_after_insert();
                DROP FUNCTION queue_counts_after_update();
                DROP FUNCTION queue_counts_after_delete();
                DROP FUNCTION queue_counts_after_truncate();
                """);

            migrationBuilder.DropTable(
                name: "queue_count_deltas");

            migrationBuilder.DropTable(
                name: "queue_count_totals");

            migrationBuilder.DropTable(
                name: "queue_pauses");

            migrationBuilder.DropIndex(
                name: "ix_jobs_live",
                table: "jobs");
        }
    }
}
