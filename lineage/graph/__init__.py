"""The graph side: the Neo4j adapter (``store``), the local server (``server``), the Cypher library
(``queries``), Browser links (``browser``) and ``ingest``, which turns a manifest into a graph.

Nothing here imports a model runtime; ``ingest`` asks :mod:`lineage.dna` for DNAs.
"""
