using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Monolith.Api.Infrastructure;
using Monolith.Api.Infrastructure.OpenApi;
using Monolith.Domain.Datasets;
using Monolith.Worker.Jobs.Datasets;

namespace Monolith.Api.Features.Names;

/// <summary>
/// Queries over the parsed names of the caller's tenant (its completed datasets; the admin key reads the admin
/// tenant's). Real names only: aggregate rows such as France's rare-names total are kept out. National records
/// only, unless <c>region</c> names a US state: then that state's records from by-state files.
/// </summary>
public static class NamesApi
{
    public const int DefaultTopLimit = 10;

    /// <summary>The values <c>sex</c> takes (<see cref="CheckSex"/>; either case is read).</summary>
    private static readonly string[] Sexes = ["F", "M"];

    public static RouteGroupBuilder MapNamesApi(this IEndpointRouteBuilder routes)
    {
        var names = routes.MapGroup("/v1/names").WithTags("Names").RequireAuthorization();

        names.MapGet("/top", TopNames).WithName("TopNames")
            .WithSummary("One year's most given names in a country, largest count first")
            .WithParameterFacts("country", required: true, values: DatasetFormats.Countries)
            .WithParameterFacts("year", required: true, minimum: 1000, maximum: 9999)
            .WithParameterFacts("sex", values: Sexes)
            .WithParameterFacts("region", values: DatasetFormats.UsStates.Order())
            .WithParameterFacts("limit", minimum: 1, maximum: DatasetQueries.MaxTopLimit);
        names.MapGet("/{name}", NameByYear).WithName("NameByYear")
            .WithSummary("How many babies got a name in each year, in a country (one sex, or both summed)")
            .WithParameterFacts("name", maxLength: DatasetFormats.MaxNameLength)
            .WithParameterFacts("country", required: true, values: DatasetFormats.Countries)
            .WithParameterFacts("sex", values: Sexes)
            .WithParameterFacts("region", values: DatasetFormats.UsStates.Order());
        return names;
    }

    /// <param name="name" example="Olivia">The name as the files spell it (case matters).</param>
    /// <param name="country" example="US">ISO 3166-1 alpha-2.</param>
    /// <param name="sex">F or M; both summed when absent.</param>
    /// <param name="region" example="AK">A US state (by-state files); national records when absent.</param>
    public static async Task<Results<Ok<NameByYearResponse>, ValidationProblem>> NameByYear(
        string name, string? country, string? sex, string? region, ClaimsPrincipal user, DatasetQueries queries, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        var code = CheckCountry(country, errors);
        var sexCode = CheckSex(sex, errors);
        var regionCode = CheckRegion(code, region, errors);
        if (name.Length > DatasetFormats.MaxNameLength) errors["name"] = [$"At most {DatasetFormats.MaxNameLength} characters."];
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors);

        var years = await queries.CountsPerYearAsync(user.TenantId(), code!, regionCode, name, sexCode, ct);
        return TypedResults.Ok(new NameByYearResponse(name, code!, regionCode, sexCode, years.Sum(y => y.Count), years));
    }

    /// <param name="country" example="US">ISO 3166-1 alpha-2.</param>
    /// <param name="year" example="2020">The year.</param>
    /// <param name="sex">F or M; both sexes together when absent.</param>
    /// <param name="limit">1 to 1,000 (default 10).</param>
    /// <param name="region" example="AK">A US state (by-state files); national records when absent.</param>
    public static async Task<Results<Ok<TopNamesResponse>, ValidationProblem>> TopNames(
        string? country, int? year, string? sex, int? limit, string? region, ClaimsPrincipal user, DatasetQueries queries, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        var code = CheckCountry(country, errors);
        var sexCode = CheckSex(sex, errors);
        var regionCode = CheckRegion(code, region, errors);
        if (year is null) errors["year"] = ["A year is required."];
        else if (year is < 1000 or > 9999) errors["year"] = ["A four-digit year."];
        if (limit is < 1 or > DatasetQueries.MaxTopLimit) errors["limit"] = [$"Must be between 1 and {DatasetQueries.MaxTopLimit}."];
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors);

        var names = await queries.TopAsync(user.TenantId(), code!, regionCode, year!.Value, sexCode, limit ?? DefaultTopLimit, ct);
        return TypedResults.Ok(new TopNamesResponse(code!, regionCode, year.Value, sexCode, names));
    }

    private static string? CheckCountry(string? country, Dictionary<string, string[]> errors)
    {
        var code = country?.Trim().ToUpperInvariant();
        if (string.IsNullOrEmpty(code)) errors["country"] = ["A country is required (ISO 3166-1 alpha-2, e.g. US)."];
        else if (!DatasetFormats.Countries.Contains(code)) errors["country"] = [$"Unknown country. Countries: {string.Join(", ", DatasetFormats.Countries)}."];
        return code;
    }

    /// <summary>A region exists only where a format stores one: the states of the US by-state files.</summary>
    private static string? CheckRegion(string? country, string? region, Dictionary<string, string[]> errors)
    {
        if (region is null) return null;
        var code = region.Trim().ToUpperInvariant();
        if (country == "US" && DatasetFormats.UsStates.Contains(code)) return code;
        errors["region"] = [country == "US" ? "A US state's two-letter code (AK, AL, …, DC)." : "Regions exist only for country US (its states)."];
        return code;
    }

    private static string? CheckSex(string? sex, Dictionary<string, string[]> errors)
    {
        if (sex is null) return null;
        var code = sex.Trim().ToUpperInvariant();
        if (code is not ("F" or "M")) errors["sex"] = ["F or M."];
        return code;
    }
}

/// <summary>A name's counts per year, oldest first.</summary>
/// <param name="Region">The US state asked for; null for national records.</param>
/// <param name="Sex">The sex asked for; null when both are summed.</param>
/// <param name="Total">The sum over every year.</param>
public sealed record NameByYearResponse(string Name, string Country, string? Region, string? Sex, long Total, IReadOnlyList<YearCount> Years);

/// <summary>A year's most given names, largest count first (ties by name).</summary>
/// <param name="Region">The US state asked for; null for national records.</param>
public sealed record TopNamesResponse(string Country, string? Region, int Year, string? Sex, IReadOnlyList<NameCount> Names);
