// name: family_speed
// mode: read
// description: Families ranked by evolution speed: DNA distance travelled per year (slope of root-to-tip DNA distance against release date), with family size and fit quality (r2); families whose slope is negative or whose fit explains little come last with no speed and a note saying why.
// param limit = 50: how many families
// example: lineage query family_speed --format csv
// :param limit => 50
MATCH (f:Family)
WHERE f.slope IS NOT NULL
RETURN f.name AS family, f.speed AS dna_per_year, f.n_models AS n_models, f.r2 AS r2, f.span_days AS span_days,
       f.speed_note AS note
ORDER BY f.speed IS NULL, dna_per_year DESC
LIMIT $limit
