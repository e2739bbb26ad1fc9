"""Options shared by every command (connection settings), and the settings built from them."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from lineage.settings import Settings, load_settings

_overrides: dict = {}


def connection_callback(
    uri: Annotated[Optional[str], typer.Option("--uri", help="Neo4j URI (env NEO4J_URI).", show_default=False)] = None,
    user: Annotated[Optional[str], typer.Option("--user", help="Neo4j user (env NEO4J_USER).", show_default=False)] = None,
    database: Annotated[Optional[str], typer.Option("--database", help="Neo4j database (env NEO4J_DATABASE).", show_default=False)] = None,
) -> None:
    """Global connection flags; the password comes only from the environment, the config file or the local password file."""
    _overrides.clear()
    _overrides.update(neo4j_uri=uri, neo4j_user=user, neo4j_database=database)


def settings_from(**extra) -> Settings:
    """Settings from CLI flags > environment > config file > local default."""
    return load_settings(**{**_overrides, **extra})
