"""Every `lineage ...` command the README shows exists, with the options it is shown with.

The README is what a new user copies from; a renamed command or option must fail here,
not in their shell. The quick start itself is run, command by command, by
tests/cli/test_readme_quickstart.py.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import typer.main

from lineage.cli.app import get_app

ROOT = Path(__file__).resolve().parents[2]


def readme_shell_lines(section: str | None = None) -> list[str]:
    """Every command line of the README's shell code blocks (comments dropped, `a && b` split,
    a leading `$ ` removed); with ``section``, only the blocks under the ``## <section>`` heading."""
    out, lang, inside = [], None, section is None
    for line in (ROOT / "README.md").read_text().splitlines():
        if line.startswith("## ") and section is not None and lang is None:
            inside = line[3:].strip().startswith(section)
        if line.startswith("```"):
            lang = None if lang is not None else (line[3:].strip() or "text")
            continue
        if not inside or lang not in ("bash", "sh", "console", "text"):
            continue
        for part in line.split("#")[0].split("&&"):
            part = part.strip().removeprefix("$ ")
            if part:
                out.append(part)
    return out


def readme_commands() -> list[list[str]]:
    """Argument lists of every `lineage ...` line in the README's shell code blocks."""
    return [shlex.split(line) for line in readme_shell_lines() if line.startswith("lineage ")]


def test_the_readme_shows_commands():
    assert len(readme_commands()) >= 6


def test_every_readme_command_and_option_exists():
    group = typer.main.get_command(get_app())
    problems = []
    for argv in readme_commands():
        cmd, rest = group, argv[1:]
        path = ["lineage"]
        while hasattr(cmd, "commands") and rest and not rest[0].startswith("-"):
            if rest[0] not in cmd.commands:
                problems.append(f"{' '.join(argv)}: no command {' '.join(path + [rest[0]])!r}")
                break
            path.append(rest[0])
            cmd, rest = cmd.commands[rest[0]], rest[1:]
        else:
            if hasattr(cmd, "commands"):
                continue  # a group shown bare (prints its help)
            known = {o for p in cmd.params for o in getattr(p, "opts", []) + getattr(p, "secondary_opts", [])}
            for tok in rest:
                if tok.startswith("--") and tok.split("=")[0] not in known:
                    problems.append(f"{' '.join(argv)}: {' '.join(path)} has no option {tok.split('=')[0]}")
    assert not problems, "\n".join(problems)
