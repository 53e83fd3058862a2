using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Monolith.Domain.Persistence.Migrations
{
    /// <summary>
    /// The claim of the standing dispatch firing (docs/engine.md): an index per queue and tenant, and the claim itself as
    /// one function, so a claim is one round trip whatever it has to do (fence, tenants in turn, caps, several passes).
    /// </summary>
    public partial class StandingDispatch : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "ix_jobs_claim_tenant",
                table: "jobs",
                columns: new[] { "queue", "tenant_id", "priority", "scheduled_at", "id" },
                descending: new[] { false, false, true, false, false },
                filter: "state IN ('scheduled', 'queued', 'retrying')");
            migrationBuilder.Sql(ClaimFunction);
        }

        /// <summary>
        /// <c>monolith_claim</c>: claims up to <c>p_limit</c> due jobs for one dispatch firing, in one transaction.
        /// <list type="number">
        /// <item>Fence: when <c>p_fire_instance</c> is given, the firing's row in Quartz's fired-triggers table must still
        /// exist (SQLSTATE MN001 otherwise: Quartz recovered the firing elsewhere, so this node must claim nothing more
        /// under it). <c>FOR KEY SHARE</c> holds that recovery (it deletes the row) until this claim commits, so the
        /// recovered firing sees every job this claim took.</item>
        /// <item>Queues in the order given (paused ones skipped); within a queue, the tenants with waiting jobs in turn,
        /// starting after <c>p_start_after</c> (the caller passes a random id, so every tenant is as likely to come
        /// first), one index probe per tenant and at most as many tenants as places.</item>
        /// <item>Each tenant's best due jobs (priority, then oldest), at most a fair share of the places each (four
        /// times an even share, so a claim fills however the jobs are spread) and, with <c>p_tenant_cap</c> &gt; 0, at
        /// most what the tenant's cap leaves: its running jobs counted under a transaction-scoped advisory lock per
        /// tenant, taken in one order, so two nodes never both fill a tenant's last place.</item>
        /// <item>Then, across tenants: higher priority first, then round robin (every tenant's first job, then every
        /// tenant's second...), and again while a pass took something and places are left.</item>
        /// </list>
        /// </summary>
        private const string ClaimFunction = """
            CREATE OR REPLACE FUNCTION monolith_claim(
                p_queues text[], p_limit int, p_node text, p_ticket uuid,
                p_sched_name text, p_fire_instance text, p_start_after uuid, p_tenant_cap int)
            RETURNS SETOF jobs LANGUAGE plpgsql AS $$
            DECLARE
                nil CONSTANT uuid := '00000000-0000-0000-0000-000000000000';
                q text;
                remaining int := p_limit;
                tenants uuid[];
                allowed int[];
                cur uuid;
                nxt uuid;
                wrapped boolean;
                per_tenant int;
                taken int;
                t uuid;
            BEGIN
                IF p_fire_instance IS NOT NULL THEN
                    PERFORM 1 FROM quartz.qrtz_fired_triggers
                    WHERE sched_name = p_sched_name AND entry_id = p_fire_instance FOR KEY SHARE;
                    IF NOT FOUND THEN
                        RAISE EXCEPTION 'The dispatch firing % is no longer live (Quartz recovered it).', p_fire_instance
                            USING ERRCODE = 'MN001';
                    END IF;
                END IF;

                FOREACH q IN ARRAY p_queues LOOP
                    EXIT WHEN remaining <= 0;
                    CONTINUE WHEN EXISTS (SELECT 1 FROM queue_pauses p WHERE p.queue = q);
                    LOOP
                        tenants := '{}';
                        cur := coalesce(p_start_after, nil);
                        wrapped := p_start_after IS NULL;
                        LOOP
                            SELECT j.tenant_id INTO nxt FROM jobs j
                            WHERE j.state IN ('scheduled', 'queued', 'retrying') AND j.queue = q AND j.tenant_id > cur
                            ORDER BY j.tenant_id LIMIT 1;
                            IF nxt IS NULL OR (wrapped AND nxt > p_start_after) THEN
                                EXIT WHEN wrapped;
                                wrapped := true;
                                cur := nil;
                                CONTINUE;
                            END IF;
                            tenants := tenants || nxt;
                            cur := nxt;
                            EXIT WHEN cardinality(tenants) >= remaining;
                        END LOOP;
                        EXIT WHEN cardinality(tenants) = 0;

                        per_tenant := greatest(1, least(remaining, ceil(4.0 * remaining / cardinality(tenants))::int));
                        IF p_tenant_cap > 0 THEN
                            FOR t IN SELECT u FROM unnest(tenants) AS u ORDER BY u LOOP
                                PERFORM pg_advisory_xact_lock(hashtextextended('monolith.cap.tenant:' || t::text, 0));
                            END LOOP;
                            SELECT array_agg(least(per_tenant, greatest(0, p_tenant_cap - (
                                       SELECT count(*) FROM jobs r WHERE r.tenant_id = u.id AND r.state = 'running')))::int
                                   ORDER BY u.turn)
                            INTO allowed FROM unnest(tenants) WITH ORDINALITY AS u(id, turn);
                        ELSE
                            allowed := array_fill(per_tenant, ARRAY[cardinality(tenants)]);
                        END IF;

                        RETURN QUERY
                        WITH candidates AS (
                            SELECT c.id, c.priority, t.turn,
                                   row_number() OVER (PARTITION BY t.turn ORDER BY c.priority DESC, c.scheduled_at, c.id) AS nth
                            FROM unnest(tenants, allowed) WITH ORDINALITY AS t(id, allow, turn)
                            CROSS JOIN LATERAL (
                                SELECT j.id, j.priority, j.scheduled_at FROM jobs j
                                WHERE j.state IN ('scheduled', 'queued', 'retrying') AND j.queue = q AND j.tenant_id = t.id
                                  AND j.scheduled_at <= now()
                                ORDER BY j.priority DESC, j.scheduled_at, j.id
                                LIMIT t.allow
                                FOR UPDATE SKIP LOCKED) AS c),
                        picked AS (
                            SELECT id FROM candidates ORDER BY priority DESC, nth, turn LIMIT remaining)
                        UPDATE jobs j SET state = 'running', attempt = j.attempt + 1, lease_token = gen_random_uuid(),
                               node = p_node, ticket_id = p_ticket, started_at = now(),
                               progress_percent = NULL, progress_message = NULL
                        FROM picked WHERE j.id = picked.id
                        RETURNING j.*;
                        GET DIAGNOSTICS taken = ROW_COUNT;
                        remaining := remaining - taken;
                        EXIT WHEN taken = 0 OR remaining <= 0;
                    END LOOP;
                END LOOP;
            END $$;
            """;

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP FUNCTION IF EXISTS monolith_claim(text[], int, text, uuid, text, text, uuid, int);");
            migrationBuilder.DropIndex(
                name: "ix_jobs_claim_tenant",
                table: "jobs");
        }
    }
}
