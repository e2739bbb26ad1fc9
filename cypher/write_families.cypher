// name: write_families
// mode: write
// description: :Family nodes with their evolution speed (null when the slope is negative or the fit meaningless: then slope and speed_note say why) and IN_FAMILY edges from their models. Rows: {name, speed, slope, speed_note, n_models, r2, span_days, members}.
// param rows: list of maps
UNWIND $rows AS r
CREATE (f:Family {name: r.name, speed: r.speed, slope: r.slope, speed_note: r.speed_note, n_models: r.n_models,
                  r2: r.r2, span_days: r.span_days})
WITH f, r
UNWIND r.members AS mid
MATCH (m:Model {id: mid})
CREATE (m)-[:IN_FAMILY]->(f)
