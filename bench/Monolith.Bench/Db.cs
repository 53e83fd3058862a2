using System.Diagnostics;
using Npgsql;

namespace Monolith.Bench;

/// <summary>Database helpers: DATABASE_URL parsing, one fresh database per scenario, progress queries.</summary>
public sealed class Db
{
    private readonly NpgsqlConnectionStringBuilder _server;

    public Db(string databaseUrl)
    {
        var uri = new Uri(databaseUrl);
        var user = Uri.UnescapeDataString(uri.UserInfo.Split(':')[0]);
        _server = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host,
            Port = uri.Port > 0 ? uri.Port : 5432,
            Username = string.IsNullOrEmpty(user) ? "postgres" : user,
            Database = "postgres",
            Pooling = true,
            MaxPoolSize = 10,
        };
        if (uri.UserInfo.Contains(':')) _server.Password = Uri.UnescapeDataString(uri.UserInfo.Split(':', 2)[1]);
    }

    public string ConnectionString(string database) => new NpgsqlConnectionStringBuilder(_server.ConnectionString) { Database = database }.ConnectionString;

    /// <summary>A libpq URI for psql.</summary>
    public string ConnectionUri(string database) => $"postgresql://{_server.Username}@{_server.Host}:{_server.Port}/{database}";

    public string Url(string database) => $"postgres://{_server.Username}@{_server.Host}:{_server.Port}/{database}";

    /// <summary>
    /// Drops (if present) and creates a database; returns its name. The pool's connections to an earlier database of that
    /// name (a scenario run in rounds) are cleared first: the forced drop ends them on the server side.
    /// </summary>
    public async Task<string> CreateDatabaseAsync(string name)
    {
        await using (var earlier = new NpgsqlConnection(ConnectionString(name))) NpgsqlConnection.ClearPool(earlier);
        await using var conn = new NpgsqlConnection(ConnectionString("postgres"));
        await conn.OpenAsync();
        await using (var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", conn)) await drop.ExecuteNonQueryAsync();
        await using (var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", conn)) await create.ExecuteNonQueryAsync();
        return name;
    }

    public async Task<string> ScalarTextAsync(string database, string sql)
    {
        await using var conn = new NpgsqlConnection(ConnectionString(database));
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        return Convert.ToString(await cmd.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture) ?? "";
    }

    /// <summary>Runs a query and returns its rows as object arrays.</summary>
    public async Task<List<object?[]>> RowsAsync(string database, string sql, params (string Name, object Value)[] parameters)
    {
        await using var conn = new NpgsqlConnection(ConnectionString(database));
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        foreach (var (name, value) in parameters) cmd.Parameters.AddWithValue(name, value);
        await using var reader = await cmd.ExecuteReaderAsync();
        var rows = new List<object?[]>();
        while (await reader.ReadAsync())
        {
            var row = new object?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++) row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>
    /// The pid of the server's postmaster (from <c>postmaster.pid</c> in its data directory, which the bench reads as root
    /// or as the cluster's owner), to measure the server's CPU; null when it cannot be read (a server elsewhere).
    /// </summary>
    public async Task<int?> PostmasterPidAsync()
    {
        try
        {
            var dataDirectory = await ScalarTextAsync("postgres", "SELECT setting FROM pg_settings WHERE name = 'data_directory'");
            var first = (await File.ReadAllLinesAsync(Path.Combine(dataDirectory, "postmaster.pid")))[0];
            return int.Parse(first.Trim(), System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or PostgresException)
        {
            return null;
        }
    }

    /// <summary>Milliseconds from <paramref name="from"/> (UTC) to max(finished_at) of succeeded jobs.</summary>
    public async Task<double?> MsToLastSuccessAsync(string database, DateTime from)
    {
        var rows = await RowsAsync(database,
            "SELECT (extract(epoch FROM (max(finished_at) - @from)) * 1000)::float8 FROM jobs WHERE state = 'succeeded'",
            ("from", from));
        return rows[0][0] as double?;
    }
}
