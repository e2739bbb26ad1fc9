// name: declared_links
// mode: read
// description: Models that are one of the given names or declare one of them as a base model, with their declared-lineage component (a placement joins new models to the components their declarations reach).
// param names: list of model ids or declared base-model names
// :param names => ['model-a']
MATCH (m:Model)
WHERE m.id IN $names OR any(p IN coalesce(m.declared_base_models, []) WHERE p IN $names)
RETURN m.id AS id, coalesce(m.declared_base_models, []) AS declared_parents, m.declared_component AS declared_component,
       m.status = 'ok' AND m.dna IS NOT NULL AND coalesce(m.degenerate, false) = false AS valid
