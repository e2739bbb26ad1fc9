"""The ``lineage`` command. Each command group lives in its own module and is a thin
wrapper over one public function.

Every mistake a user can make ends the same way: ``error: <one line>`` and, when there
is one, ``hint: <what to do>`` on stderr, exit 1, no traceback (``LINEAGE_DEBUG=1``
shows tracebacks). That covers a :class:`~lineage.errors.LineageError` from any command,
a bad command line (unknown option or command, missing argument, a value out of the
range or outside the choices :mod:`lineage.cli.options` declares: refused while parsing,
before any work starts) and a setting pydantic refuses (named, its value never shown).
``--help`` exits 0; a command may exit 2 itself (ingest: some models failed)."""

from __future__ import annotations

import os
import sys

import typer
from typer.core import TyperGroup

from lineage.errors import LineageError


def _debug() -> bool:
    return os.environ.get("LINEAGE_DEBUG", "") not in ("", "0", "false")


class _Group(TyperGroup):
    """The root group: turns every user mistake into one line + hint, exit 1."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:  # typer turns it into a silent exit 130: say what happened
            print("interrupted", file=sys.stderr)
            raise
        except LineageError as e:
            if _debug():
                raise
            _report(e)
            ctx.exit(1)
        except ValueError as e:  # pydantic's ValidationError is a ValueError
            from pydantic import ValidationError

            if not isinstance(e, ValidationError) or _debug():
                raise
            _report(_validation_error(e))
            ctx.exit(1)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        """Click's main, with its usage errors (exit 2 and a usage block: unknown option or
        command, missing argument, a value its type refuses) made one line + hint, exit 1."""
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except typer.TyperException as e:  # click's ClickException (typer vendors click)
            if type(e).__name__ == "NoArgsIsHelpError":  # bare `lineage` or `lineage db`: the help
                typer.echo(e.format_message())
                rv = 0
            else:
                if _debug():
                    raise
                _report_click(e)
                rv = 1
        except typer.Abort:
            print("aborted", file=sys.stderr)
            rv = 1
        rv = rv if isinstance(rv, int) else 0
        if not standalone_mode:
            return rv
        sys.exit(rv)


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
    from lineage.cli import check, export, import_metadata, report

    from lineage.cli.options import connection_callback

    app.callback()(connection_callback)
    for mod in (db, zoo, extract, tree, eval_cmd, ingest, import_metadata, query, demo, export, report, check):
        mod.register(app)


def _report(e: LineageError) -> None:
    from lineage.cli._output import error_line

    error_line(e.message, e.hint)


def _report_click(e: typer.TyperException) -> None:
    """A usage error or a refused option value as one line; the hint names the command's --help."""
    from lineage.cli._output import error_line

    ctx = getattr(e, "ctx", None)
    hint = f"run `{ctx.command_path} --help`" if ctx is not None else "run `lineage --help`"
    error_line(e.format_message().replace(": Value error, ", ": "), hint)


def _validation_error(e) -> LineageError:
    """A pydantic ValidationError as one ConfigError naming each field and what it needs,
    never the value given (it could be a secret)."""
    from lineage.errors import ConfigError

    settings = e.title == "Settings"
    parts = []
    for err in e.errors(include_input=False, include_url=False):
        field = ".".join(str(x) for x in err.get("loc", ())) or "value"
        if settings:  # pydantic-settings names the alias (LINEAGE_BOLT_PORT), wherever the value came from
            name = field.lower().removeprefix("lineage_")
            env = field if field.isupper() else f"LINEAGE_{field.upper()}"
            field = f"{name} ({env})"
        parts.append(f"{field}: {err.get('msg', 'invalid')}")
    if not settings:
        return ConfigError(f"invalid {e.title} value " + "; ".join(parts))
    from lineage.settings import default_config_file

    return ConfigError("invalid setting " + "; ".join(parts),
                       hint=f"fix that environment variable, or the key in the config file {default_config_file()}")


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
