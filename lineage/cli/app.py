"""The ``lineage`` command. Each command group lives in its own module and is a thin
wrapper over one public function; errors become one line plus a hint, exit 1.
``LINEAGE_DEBUG=1`` shows tracebacks."""

from __future__ import annotations

import os
import sys

import typer
from typer.core import TyperGroup

from lineage.errors import LineageError


def _debug() -> bool:
    return os.environ.get("LINEAGE_DEBUG", "") not in ("", "0", "false")


class _Group(TyperGroup):
    """Turns a LineageError raised by any command into one line + hint, exit 1."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except LineageError as e:
            if _debug():
                raise
            _report(e)
            ctx.exit(1)


app = typer.Typer(
    cls=_Group,
    name="lineage",
    help="Trace where language models come from: DNA extraction, phylogeny, and a Neo4j lineage graph.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)


_registered = False


@app.command("version")
def version_cmd() -> None:
    """Print the lineage version.

    Example: lineage version
    """
    from lineage import __version__

    print(__version__)


def _register() -> None:
    from lineage.cli import db, demo, eval as eval_cmd, extract, ingest, query, tree, zoo  # noqa: F401

    from lineage.cli.options import connection_callback

    app.callback()(connection_callback)
    for mod in (db, zoo, extract, tree, eval_cmd, ingest, query, demo):
        mod.register(app)


def _report(e: LineageError) -> None:
    from lineage.cli._output import err_console

    err_console.print(f"[bold red]error:[/] {e.message}", markup=True, highlight=False)
    if e.hint:
        err_console.print(f"[dim]hint: {e.hint}[/]", markup=True, highlight=False)


def main(argv: list[str] | None = None) -> None:
    get_app()
    try:
        app(args=argv)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)


def get_app() -> typer.Typer:
    """The fully registered app (for tests using typer's CliRunner)."""
    global _registered
    if not _registered:
        _register()
        _registered = True
    return app
