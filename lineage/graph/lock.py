"""The graph-wide ingest lock: a node that one writer at a time holds (``host:pid:token``).

One liveness rule serves the ingest (which takes over a lock whose holder died on this
machine) and ``lineage db unlock`` (which never breaks a live lock). Every operation that
deletes from the graph takes the same lock (:func:`clear_graph`): a clear during an ingest
once deleted the lock and the models under the ingest, which then reported success."""

from __future__ import annotations

import os
import secrets
import socket
from pathlib import Path

from lineage.errors import GraphError, LineageError


def holder_state(owner: str) -> str:
    """``"dead"`` (holder was on this machine and its process is gone), ``"alive"`` (on this
    machine and running) or ``"unknown"`` (another machine, or an owner string that names no pid)."""
    host, pid, _ = (str(owner).split(":") + ["", "", ""])[:3]
    if host != socket.gethostname() or not pid.isdigit():
        return "unknown"
    return "alive" if Path(f"/proc/{pid}").exists() else "dead"


class IngestLock:
    """Context manager holding the ingest lock on ``graph`` (a :class:`lineage.graph.store.Graph`)."""

    def __init__(self, graph):
        self.graph = graph
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"

    def __enter__(self):
        row = self.graph.query("acquire_ingest_lock", owner=self.owner)[0]
        if row["owner"] != self.owner:
            if holder_state(row["owner"]) == "dead":
                # The holder died on this machine (killed ingest): take over its lock.
                self.graph.query("release_ingest_lock", owner=row["owner"])
                return self.__enter__()
            raise GraphError(f"another ingest ({row['owner']}, since {row['since']}) is writing to this graph",
                             hint="wait for it to finish; if it died on another machine, run `lineage db unlock`")
        return self

    def __exit__(self, *exc):
        try:
            self.graph.query("release_ingest_lock", owner=self.owner)
        except LineageError:
            pass


def clear_graph(graph) -> None:
    """Delete every node and relationship of ``graph`` (the schema stays), holding the ingest lock.

    Raises
    ------
    GraphError
        When an ingest (or another clear) holds the lock and its holder may be alive; the
        message names the holder and nothing is deleted.
    """
    try:
        lock = IngestLock(graph).__enter__()
    except GraphError as e:
        raise GraphError(f"cannot clear the database: {e.message}",
                         hint="wait for that ingest to finish; nothing was deleted") from None
    try:
        graph.query("clear_graph_locked")
    finally:
        lock.__exit__(None, None, None)
