using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Monolith.Domain.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class ObservabilityWebhooksRetention : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "webhook_secret",
                table: "tenants",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "callback_url",
                table: "jobs",
                type: "character varying(2000)",
                maxLength: 2000,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "trace_parent",
                table: "jobs",
                type: "character varying(100)",
                maxLength: 100,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "type_rate_windows",
                columns: table => new
                {
                    type = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    window_start = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    started = table.Column<int>(type: "integer", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_type_rate_windows", x => x.type);
                });

            migrationBuilder.UpdateData(
                table: "tenants",
                keyColumn: "id",
                keyValue: new Guid("00000000-0000-0000-0000-000000000001"),
                column: "webhook_secret",
                value: null);

            migrationBuilder.CreateIndex(
                name: "ix_jobs_finished",
                table: "jobs",
                columns: new[] { "state", "finished_at" },
                filter: "state IN ('succeeded', 'failed', 'cancelled')");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "type_rate_windows");

            migrationBuilder.DropIndex(
                name: "ix_jobs_finished",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "webhook_secret",
                table: "tenants");

            migrationBuilder.DropColumn(
                name: "callback_url",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "trace_parent",
                table: "jobs");
        }
    }
}
