"""`lineage check --policy POLICY`: policy rules over the lineage graph, for CI."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from typer.core import TyperCommand

from lineage.cli._output import error_line, info, render_rows
from lineage.cli.options import CheckFormat, Severity, settings_from

#: Exit status when the check could not run (CI tells it apart from "violations found").
EXIT_NOT_RUN = 2


class _CheckCommand(TyperCommand):
    """A command line ``lineage check`` cannot parse means the check did not run: exit 2, one line."""

    def parse_args(self, ctx, args):
        try:
            return super().parse_args(ctx, args)
        except typer.TyperException as e:
            if type(e).__name__ in ("Exit", "Abort"):
                raise
            error_line(e.format_message(), "run `lineage check --help`")
            raise typer.Exit(EXIT_NOT_RUN) from None


def check_cmd(
    policy: Annotated[str, typer.Option("--policy", help="Policy YAML file, or the name of a shipped policy (sample).", show_default=False)],
    format: Annotated[CheckFormat, typer.Option("--format", help="table, json or sarif (SARIF 2.1.0, for CI code-scanning views).")] = "table",
    fail_on: Annotated[Severity, typer.Option("--fail-on", help="Lowest severity that fails the check: error, warning or note.")] = "error",
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Write the report to this file instead of stdout.", show_default=False)] = None,
) -> None:
    """Evaluate a policy's rules (shipped or your own read-only Cypher queries, with parameters and a
    severity) over the graph and print the violations.

    Exit 0: no finding at or above --fail-on; 1: some; 2: the check could not run (a malformed
    policy, an unknown query, a rule whose query writes, a parameter of the wrong type, no graph);
    the graph is never changed.

    Example: lineage check --policy sample --format sarif --out lineage.sarif
    """
    from lineage import __version__
    from lineage.errors import ConfigError, LineageError
    from lineage.graph.licences import check_policy
    from lineage.licences.policy import resolve_policy
    from lineage.licences.sarif import to_sarif

    try:
        result = check_policy(resolve_policy(policy), fail_on=fail_on, settings=settings_from())
        if format == "sarif":
            text = to_sarif(result, tool_version=__version__)
        elif format == "json":
            import json

            text = json.dumps({"policy": result.policy.name, "fail_on": result.fail_on, "failed": result.failed,
                               "findings": [{**r, "row": f.row} for r, f in zip(result.rows(), result.findings)]},
                              indent=2, default=str, ensure_ascii=False) + "\n"
        else:
            text = None
        if out is not None and text is None:
            raise ConfigError("--out needs --format json or sarif")
        if out is not None:
            from lineage.io import atomic_write_text

            atomic_write_text(out, text)
    except LineageError as e:
        error_line(e.message, e.hint)
        raise typer.Exit(EXIT_NOT_RUN) from None
    if text is None:
        render_rows(result.rows(), "table", title=f"policy {result.policy.name}")
    elif out is None:
        sys.stdout.write(text)
    counts = {s: sum(f.severity == s for f in result.findings) for s in ("error", "warning", "note")}
    info(f"{len(result.findings)} finding(s) ({', '.join(f'{n} {s}' for s, n in counts.items())}) from "
         f"{len(result.policy.rules)} rule(s) in {result.seconds:.1f} s; fail-on {result.fail_on}: "
         + ("FAILED" if result.failed else "passed") + (f"; wrote {out}" if out is not None else ""))
    if result.failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("check", cls=_CheckCommand)(check_cmd)
