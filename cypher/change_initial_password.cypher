// name: change_initial_password
// mode: write
// database: system
// description: Replace the built-in neo4j/neo4j password on the first start of the local server (run by `lineage db start`).
// param new: the generated password
ALTER CURRENT USER SET PASSWORD FROM 'neo4j' TO $new
