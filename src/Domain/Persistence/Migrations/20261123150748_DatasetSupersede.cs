using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Monolith.Domain.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class DatasetSupersede : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "rows_superseded",
                table: "datasets",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<Guid>(
                name: "superseded_by",
                table: "datasets",
                type: "uuid",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "rows_superseded",
                table: "datasets");

            migrationBuilder.DropColumn(
                name: "superseded_by",
                table: "datasets");
        }
    }
}
