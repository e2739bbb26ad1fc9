// name: schema_info
// mode: read
// description: Indexes in the database (including those backing uniqueness constraints) with their state and options.
// example: lineage query schema_info
SHOW INDEXES YIELD name, type, labelsOrTypes, properties, state, owningConstraint, options
RETURN name, type, labelsOrTypes AS labels, properties, state, owningConstraint AS constraint,
       options.indexConfig AS config
ORDER BY name
