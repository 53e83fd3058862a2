using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Monolith.Domain.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class UniqueJobs : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "unique_key",
                table: "jobs",
                type: "character varying(200)",
                maxLength: 200,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "unique_scope",
                table: "jobs",
                type: "character varying(20)",
                maxLength: 20,
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "ux_jobs_unique_key",
                table: "jobs",
                columns: new[] { "tenant_id", "unique_key" },
                unique: true,
                filter: "unique_key IS NOT NULL AND (state IN ('scheduled', 'queued') OR (unique_scope = 'until_executed' AND state IN ('running', 'retrying')))");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ux_jobs_unique_key",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "unique_key",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "unique_scope",
                table: "jobs");
        }
    }
}
