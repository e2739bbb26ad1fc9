"""The pipeline floor: the steps that run models *and* write the graph, above every other layer.

``ingest``    a manifest into the graph: entries -> DNAs + evidence -> analysis -> Neo4j
``evaluate``  the same route against a ground truth, without the graph
``demo``      the quick start: zoo, database, ingest, queries
``treeplot``  the phylogeny drawn as a picture
"""
