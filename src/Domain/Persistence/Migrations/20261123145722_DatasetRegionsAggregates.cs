using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Monolith.Domain.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class DatasetRegionsAggregates : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_name_records_name",
                table: "name_records");

            migrationBuilder.DropIndex(
                name: "ix_name_records_top",
                table: "name_records");

            migrationBuilder.AddColumn<string>(
                name: "region",
                table: "name_records",
                type: "character varying(2)",
                maxLength: 2,
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "aggregate_rows",
                table: "datasets",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.CreateIndex(
                name: "ix_name_records_name",
                table: "name_records",
                columns: new[] { "tenant_id", "country", "region", "name", "sex", "year" },
                filter: "kind = 'name'")
                .Annotation("Npgsql:IndexInclude", new[] { "count" });

            migrationBuilder.CreateIndex(
                name: "ix_name_records_top",
                table: "name_records",
                columns: new[] { "tenant_id", "country", "region", "year", "sex", "count" },
                descending: new[] { false, false, false, false, false, true },
                filter: "kind = 'name'")
                .Annotation("Npgsql:IndexInclude", new[] { "name" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_name_records_name",
                table: "name_records");

            migrationBuilder.DropIndex(
                name: "ix_name_records_top",
                table: "name_records");

            migrationBuilder.DropColumn(
                name: "region",
                table: "name_records");

            migrationBuilder.DropColumn(
                name: "aggregate_rows",
                table: "datasets");

            migrationBuilder.CreateIndex(
                name: "ix_name_records_name",
                table: "name_records",
                columns: new[] { "tenant_id", "country", "name", "sex", "year" },
                filter: "kind = 'name'")
                .Annotation("Npgsql:IndexInclude", new[] { "count" });

            migrationBuilder.CreateIndex(
                name: "ix_name_records_top",
                table: "name_records",
                columns: new[] { "tenant_id", "country", "year", "sex", "count" },
                descending: new[] { false, false, false, false, true },
                filter: "kind = 'name'")
                .Annotation("Npgsql:IndexInclude", new[] { "name" });
        }
    }
}
