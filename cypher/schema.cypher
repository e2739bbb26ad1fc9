// name: schema
// mode: schema
// description: Constraints and indexes lineage needs; idempotent (IF NOT EXISTS), run by every ingest and `lineage db init`.
// param dna_dim: number of floats in a DNA vector (128 by default)
// :param dna_dim => 128
CREATE CONSTRAINT model_id IF NOT EXISTS FOR (m:Model) REQUIRE m.id IS UNIQUE;
CREATE CONSTRAINT clade_id IF NOT EXISTS FOR (c:Clade) REQUIRE c.id IS UNIQUE;
CREATE CONSTRAINT family_name IF NOT EXISTS FOR (f:Family) REQUIRE f.name IS UNIQUE;
CREATE CONSTRAINT run_id IF NOT EXISTS FOR (r:Run) REQUIRE r.id IS UNIQUE;
CREATE CONSTRAINT ingest_lock IF NOT EXISTS FOR (l:IngestLock) REQUIRE l.name IS UNIQUE;
CREATE INDEX declared_contradicted IF NOT EXISTS FOR ()-[d:DECLARED_PARENT]-() ON (d.contradicted);
CREATE INDEX undocumented_score IF NOT EXISTS FOR ()-[u:UNDOCUMENTED_RELATION]-() ON (u.score);
CREATE INDEX obligation_conflict IF NOT EXISTS FOR ()-[o:OBLIGATION_FROM]-() ON (o.conflict);
CREATE INDEX obligation_kind IF NOT EXISTS FOR ()-[o:OBLIGATION_FROM]-() ON (o.kind);
CREATE INDEX inferred_confidence IF NOT EXISTS FOR ()-[i:INFERRED_PARENT]-() ON (i.confidence);
CREATE INDEX model_family IF NOT EXISTS FOR (m:Model) ON (m.family);
CREATE INDEX model_status IF NOT EXISTS FOR (m:Model) ON (m.status);
CREATE INDEX model_sample_key IF NOT EXISTS FOR (m:Model) ON (m.sample_key);
CREATE INDEX model_declared_component IF NOT EXISTS FOR (m:Model) ON (m.declared_component);
CREATE CONSTRAINT analysis_id IF NOT EXISTS FOR (a:Analysis) REQUIRE a.id IS UNIQUE;
CREATE VECTOR INDEX model_dna IF NOT EXISTS FOR (m:Model) ON (m.dna)
OPTIONS {indexConfig: {`vector.dimensions`: $dna_dim, `vector.similarity_function`: 'euclidean'}};
CALL db.awaitIndexes(300)
