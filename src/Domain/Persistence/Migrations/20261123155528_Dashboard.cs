using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Monolith.Domain.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class Dashboard : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_jobs_state",
                table: "jobs");

            migrationBuilder.CreateIndex(
                name: "ix_jobs_queue_id",
                table: "jobs",
                columns: new[] { "queue", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_jobs_state_id",
                table: "jobs",
                columns: new[] { "state", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_jobs_type_id",
                table: "jobs",
                columns: new[] { "type", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_job_attempts_finished_at",
                table: "job_attempts",
                column: "finished_at")
                .Annotation("Npgsql:IndexInclude", new[] { "outcome" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_jobs_queue_id",
                table: "jobs");

            migrationBuilder.DropIndex(
                name: "ix_jobs_state_id",
                table: "jobs");

            migrationBuilder.DropIndex(
                name: "ix_jobs_type_id",
                table: "jobs");

            migrationBuilder.DropIndex(
                name: "ix_job_attempts_finished_at",
                table: "job_attempts");

            migrationBuilder.CreateIndex(
                name: "ix_jobs_state",
                table: "jobs",
                column: "state");
        }
    }
}
