"""Licence obligations along the lineage: the shipped licence table (:mod:`.table`), the
pure inheritance of obligations over parent edges (:mod:`.inherit`), policy rules as data
(:mod:`.policy`) and SARIF 2.1.0 output (:mod:`.sarif`). Nothing here touches the graph;
:mod:`lineage.graph.licences` reads and writes it."""
