"""The Neo4j adapter: the driver (``store``), the local server (``server``), the Cypher library
(``queries``), Browser links (``browser``), the ingest lock (``lock``) and exports read from the
graph (``export``). Nothing here runs a model or reads model files: the pipeline
(:mod:`lineage.pipeline`) does that and hands the graph rows.
"""
