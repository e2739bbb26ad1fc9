"""CLI tables read well off a terminal: piped or redirected output keeps whole headers and
whole ids (a table at its natural width, or records when that is too wide), and an explicit
COLUMNS still sets the width."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from lineage.cli._output import MAX_PIPED_WIDTH, render_rows
from tests.helpers.cli import run_cli

LONG_ID = "smollm2-135m-instruct-shout-bullets-pruned"
ROWS = [
    {"direction": "ancestor", "model": LONG_ID, "generations": 2,
     "path": ["smollm2-shout-bullets", "smollm2-shout", "smollm2-135m-instruct"], "relatives": ["a", "b"]},
    {"direction": "descendant", "model": "smollm2-pruned", "generations": 1, "path": ["x", "y"], "relatives": []},
]


@pytest.fixture()
def piped(monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)


def _border_rows(text: str) -> list[list[str]]:
    """The cells of each table line (box characters stripped)."""
    return [[c.strip() for c in re.split(r"[│┃]", line)[1:-1]] for line in text.splitlines() if line[:1] in "│┃"]


def test_piped_table_has_whole_headers_and_ids_on_one_line_each(piped, capsys):
    render_rows(ROWS, title="lineage of m")
    out = capsys.readouterr().out
    lines = _border_rows(out)
    assert lines[0] == ["direction", "model", "generations", "path", "relatives"]
    assert len(lines) == 1 + len(ROWS)  # no cell folded onto a second line
    assert lines[1][1] == LONG_ID
    # a path reads as steps, any other list of names as a list
    assert lines[1][3] == "smollm2-shout-bullets -> smollm2-shout -> smollm2-135m-instruct"
    assert lines[1][4] == "a, b"
    assert max(len(line) for line in out.splitlines()) > 80


def test_piped_table_wider_than_the_limit_prints_records(piped, capsys):
    evidence = '{"channel": "weights", "z": 41.2} ' * 12
    render_rows([{"model": "m1", "related_to": LONG_ID, "evidence": evidence},
                 {"model": "m2", "related_to": "b", "evidence": "short"}], title="undocumented")
    out = capsys.readouterr().out
    assert len(evidence) > MAX_PIPED_WIDTH
    assert out.splitlines()[:3] == ["undocumented", "", "-- 1 of 2 --"]
    assert "model       m1" in out.splitlines() and f"related_to  {LONG_ID}" in out.splitlines()
    assert f"evidence    {evidence.rstrip()}" in out.splitlines()
    assert "-- 2 of 2 --" in out and "evidence    short" in out.splitlines()


def test_a_squeezed_table_folds_cells_but_never_a_header_word():
    # the console reads COLUMNS when it is made: render in a fresh process
    code = f"from lineage.cli._output import render_rows; render_rows({ROWS!r})"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "COLUMNS": "66"})
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines and max(len(line) for line in lines) <= 66
    assert _border_rows(proc.stdout)[0] == ["direction", "model", "generations", "path", "relatives"]
    assert LONG_ID not in proc.stdout  # the cells fold instead


def test_cli_listing_piped_to_a_file_is_legible():
    proc = run_cli("query", "--list", env={"COLUMNS": None})
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    names = [line.split()[1] for line in lines if line.startswith("query ")]
    assert {"lineage", "undocumented", "undocumented_pairs", "conflicts"} <= set(names)
    assert all(len(line) < 1000 for line in lines)
    assert not any(re.search(r"\b(directio|generatio|paramete)\b", line) for line in lines)
