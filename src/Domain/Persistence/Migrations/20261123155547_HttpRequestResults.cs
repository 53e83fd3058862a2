using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Monolith.Domain.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class HttpRequestResults : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "result_expired",
                table: "jobs",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "result_expires_at",
                table: "jobs",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "result_ttl_seconds",
                table: "jobs",
                type: "integer",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "ix_jobs_result_expiry",
                table: "jobs",
                column: "result_expires_at",
                filter: "result_expires_at IS NOT NULL AND NOT result_expired");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_jobs_result_expiry",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "result_expired",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "result_expires_at",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "result_ttl_seconds",
                table: "jobs");
        }
    }
}
