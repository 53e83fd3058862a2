using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Monolith.Domain.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class Datasets : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "datasets",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    tenant_id = table.Column<Guid>(type: "uuid", nullable: false),
                    country = table.Column<string>(type: "character varying(2)", maxLength: 2, nullable: false),
                    format = table.Column<string>(type: "character varying(50)", maxLength: 50, nullable: false),
                    file_name = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    storage_key = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: false),
                    size_bytes = table.Column<long>(type: "bigint", nullable: false),
                    state = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    rows_inserted = table.Column<long>(type: "bigint", nullable: false),
                    rows_rejected = table.Column<long>(type: "bigint", nullable: false),
                    aggregate_rows = table.Column<long>(type: "bigint", nullable: false),
                    rows_superseded = table.Column<long>(type: "bigint", nullable: false),
                    superseded_by = table.Column<Guid>(type: "uuid", nullable: true),
                    first_errors = table.Column<string>(type: "jsonb", nullable: false, defaultValueSql: "'[]'::jsonb"),
                    error = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true),
                    job_id = table.Column<Guid>(type: "uuid", nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    started_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    finished_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_datasets", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "name_records",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    dataset_id = table.Column<Guid>(type: "uuid", nullable: false),
                    tenant_id = table.Column<Guid>(type: "uuid", nullable: false),
                    country = table.Column<string>(type: "character varying(2)", maxLength: 2, nullable: false),
                    region = table.Column<string>(type: "character varying(2)", maxLength: 2, nullable: true),
                    year = table.Column<int>(type: "integer", nullable: true),
                    sex = table.Column<string>(type: "character varying(1)", maxLength: 1, nullable: false),
                    name = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    count = table.Column<int>(type: "integer", nullable: false),
                    kind = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_name_records", x => x.id);
                });

            migrationBuilder.CreateIndex(
                name: "ix_datasets_tenant_id",
                table: "datasets",
                columns: new[] { "tenant_id", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_name_records_dataset",
                table: "name_records",
                column: "dataset_id");

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
            migrationBuilder.DropTable(
                name: "datasets");

            migrationBuilder.DropTable(
                name: "name_records");
        }
    }
}
