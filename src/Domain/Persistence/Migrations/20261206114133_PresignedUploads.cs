using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Monolith.Domain.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class PresignedUploads : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "expires_at",
                table: "uploads",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "state",
                table: "uploads",
                type: "character varying(20)",
                maxLength: 20,
                nullable: false,
                defaultValue: "ready"); // every upload so far was streamed through the API: ready

            migrationBuilder.CreateIndex(
                name: "ix_uploads_pending_expiry",
                table: "uploads",
                column: "expires_at",
                filter: "state = 'pending'");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_uploads_pending_expiry",
                table: "uploads");

            migrationBuilder.DropColumn(
                name: "expires_at",
                table: "uploads");

            migrationBuilder.DropColumn(
                name: "state",
                table: "uploads");
        }
    }
}
