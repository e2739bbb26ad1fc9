"""The README's quick start, run as written (as the neo4j driver's README test runs its example).

Every line of the quick start's shell blocks is accounted for, so a line added there is
either run here or fails this test until it is:

* ``bash scripts/demo.sh`` is ``source scripts/bootstrap.sh`` then ``lineage demo "$@"``.
  The suite already runs inside the environment bootstrap makes, so the test checks the
  script says exactly that and runs ``lineage demo`` itself. The default ``smol`` profile
  takes about 12 minutes from empty caches (README), so it runs with the smallest
  documented options instead: ``--profile tiny`` (the README's "seconds-long smoke run")
  and 20 probes x 16 new tokens (as tests/integration/test_ingest_zoo.py uses): 1.5 minutes
  on two busy CPU cores from empty caches, under a minute with the zoo and answers cached.
* ``bash scripts/test.sh`` is the suite this test is part of: not run again from inside it.
* ``source scripts/bootstrap.sh``: see the first point.
* every ``lineage ...`` line runs verbatim against the graph the demo left, except that
  the smol zoo's model ids it names are swapped for their tiny-zoo stand-ins (models
  that hold the same place in their zoo; ``test_the_stand_ins_hold_the_same_place``
  keeps that true). Each result is checked against the Python API.
"""

from __future__ import annotations

import os
import re
import shlex

import pytest

from lineage.zoo.profiles import PROFILES
from tests.cli.test_readme_commands import ROOT, readme_shell_lines
from tests.helpers.cli import run_cli

#: smol model -> the tiny model in the same place: a fine-tune of a fine-tune whose card names
#: the grandparent (a conflict the evidence should flag), and that fine-tune.
STAND_INS = {"smollm2-shout-bullets": "tiny-gpt2-text-maths-bullets", "smollm2-shout": "tiny-gpt2-text-maths"}
DEMO_OPTIONS = ["--profile", "tiny", "--n-probes", "20", "--max-new-tokens", "16"]
#: wide enough that rich never wraps a model id inside a table cell
WIDE = {"COLUMNS": "4000"}


def quick_start() -> list[str]:
    lines = readme_shell_lines("Quick start")
    assert lines, "README.md has no shell block under '## Quick start'"
    return lines


def _place(recipe, by_id) -> tuple:
    """Where a recipe sits in its zoo: operator, number of parents, generations below a base,
    and how its card documents its parent (truly, not at all, or naming its grandparent)."""
    depth, r = 0, recipe
    while r.parents:
        depth, r = depth + 1, by_id[r.parents[0]]
    grandparents = {g for p in recipe.parents for g in by_id[p].parents}
    declared = recipe.declared if recipe.declared in ("documented", "undocumented") else \
        "grandparent" if recipe.declared in grandparents else "other"
    return recipe.op, len(recipe.parents), depth, declared


def test_the_stand_ins_hold_the_same_place():
    smol, tiny = ({r.id: r for r in PROFILES[p]} for p in ("smol", "tiny"))
    for s, t in STAND_INS.items():
        assert _place(smol[s], smol) == _place(tiny[t], tiny), (s, t)
        for sp, tp in zip(smol[s].parents, tiny[t].parents):
            assert STAND_INS.get(sp, tp) == tp, f"{t}'s parent is not the stand-in of {s}'s parent"


def test_every_quick_start_line_is_one_this_test_runs():
    smol_ids = {r.id for r in PROFILES["smol"]}
    lines = quick_start()
    for line in lines:
        if line.startswith("lineage "):
            named = {_value(a) for a in shlex.split(line)} & smol_ids
            assert named <= set(STAND_INS), f"{line!r}: add a tiny stand-in for {sorted(named - set(STAND_INS))}"
        else:
            assert line in ("bash scripts/demo.sh", "bash scripts/test.sh", "source scripts/bootstrap.sh"), \
                f"the quick start shows {line!r}, which tests/cli/test_readme_quickstart.py does not run"
    first_query = min(i for i, line in enumerate(lines) if line.startswith("lineage "))
    assert lines.index("bash scripts/demo.sh") < first_query, "the quick start's queries read the demo's graph"
    steps = [line for line in (ROOT / "scripts" / "demo.sh").read_text().splitlines()
             if line.strip() and not line.startswith(("#", "set ", "cd "))]
    # what is left besides the work: the clock (variables, the closing printf and its continuation)
    work = [line for line in steps if not re.match(r"(\w+=\S+$|printf |  |exit )", line)]
    assert work == ["source scripts/bootstrap.sh", 'lineage demo "$@" || status=$?'], \
        "scripts/demo.sh is no longer bootstrap + `lineage demo`: update how this test runs it"
    assert steps[-2].strip().endswith(">&2") and steps[-1] == 'exit "$status"', \
        "scripts/demo.sh should end by printing the stage times and exiting with the demo's status"


def _value(arg: str) -> str:
    return arg.rpartition("=")[2]


def _as_run_here(line: str) -> list[str]:
    """The arguments of a README `lineage ...` line, smol ids swapped for their stand-ins."""
    out = []
    for a in shlex.split(line)[1:]:
        key, eq, value = a.rpartition("=")
        out.append(key + eq + STAND_INS.get(value, value))
    return out


@pytest.mark.neo4j
@pytest.mark.slow
def test_quick_start_runs_as_written(settings, graph):
    checks = {
        "query lineage": _check_lineage,
        "query undocumented": _check_undocumented,
        "query conflicts": _check_conflicts,
        "query evidence": _check_evidence,
        "db browser": _check_browser,
    }
    proc = run_cli("demo", *DEMO_OPTIONS, env=WIDE, timeout=900)  # what `bash scripts/demo.sh` runs
    assert proc.returncode == 0, proc.stderr[-3000:]
    _check_demo(proc.stdout, graph)
    _check_demo_progress(proc.stderr)
    commands = [line for line in quick_start() if line.startswith("lineage ")]
    assert commands
    for line in commands:
        argv = _as_run_here(line)
        proc = run_cli(*argv, env=WIDE, timeout=120)
        assert proc.returncode == 0, (line, proc.stderr[-3000:])
        name = " ".join(argv[:2])
        assert name in checks, f"{line!r}: say here what its output must show"
        checks[name](proc.stdout, graph, _params(argv))


def _params(argv: list[str]) -> dict:
    return dict(argv[i + 1].split("=", 1) for i, a in enumerate(argv) if a == "--param")


def _check_demo(out: str, graph) -> None:
    ids = [r.id for r in PROFILES["tiny"]]
    assert sorted(r["model"] for r in graph.query("models")) == sorted(ids)
    assert "lineage of" in out and "tree picture:" in out and "/browser/?cmd=edit" in out
    assert "parent_directed_accuracy" in out and "blind combined" in out
    png = out.split("tree picture: ")[1].split(" ")[0]
    assert os.path.getsize(png) > 10_000


def _check_demo_progress(err: str) -> None:
    """The zoo build and the ingest say where they are, and the demo ends with each stage's time."""
    ids = [r.id for r in PROFILES["tiny"]]
    lines = err.splitlines()
    for i, model in enumerate(ids, start=1):
        assert any(re.match(rf"\s+\[{i}/{len(ids)}\] {re.escape(model)}: (built in|cached)", ln) for ln in lines), \
            (model, err[-3000:])
        assert any(re.match(rf"(done|skipped): {re.escape(model)} \({i}/{len(ids)}, ", ln) for ln in lines), \
            (model, err[-3000:])
    assert re.fullmatch(r"time per stage: zoo .+, neo4j .+, ingest .+, answers .+; lineage demo in all .+", lines[-1]), \
        err[-3000:]


def _check_lineage(out: str, graph, params: dict) -> None:
    rows = graph.query("lineage", model_id=params["model_id"])
    assert rows, "the demo's graph has no lineage for the model the README asks about"
    for r in rows:
        assert f" {r['model']} " in out, r
    # the stand-in's card names its grandparent; the README promises the true parent shows too
    child = next(r for r in PROFILES["tiny"] if r.id == params["model_id"])
    assert {r["model"] for r in rows if r["direction"] == "ancestor"} >= set(child.parents) | {child.declared}


def _check_undocumented(out: str, graph, params: dict) -> None:
    rows = graph.query("undocumented")
    assert rows, "the tiny zoo has undocumented derivatives; the demo found none"
    # one row per model, and a model the zoo leaves undeclared is among them
    assert len({r["model"] for r in rows}) == len(rows)
    undeclared = {r.id for r in PROFILES["tiny"] if r.declared == "undocumented"}
    assert undeclared & {r["model"] for r in rows}, (undeclared, rows)
    for r in rows:
        assert f" {r['model']} " in out, r
    for parent in {r["parent"] for r in rows if r["parent"] is not None}:
        assert f" {parent} " in out, parent


def _check_conflicts(out: str, graph, params: dict) -> None:
    rows = graph.query("conflicts")
    wrong = {r.id: r.declared for r in PROFILES["tiny"] if r.declared not in ("documented", "undocumented")}
    assert {(r["model"], r["declared_parent"]) for r in rows} >= set(wrong.items())
    for r in rows:
        assert f" {r['model']} " in out and f" {r['declared_parent']} " in out, r


def _check_evidence(out: str, graph, params: dict) -> None:
    rows = graph.query("evidence", **params)
    assert len(rows) == 1 and rows[0]["a"] == params["a"] and rows[0]["b"] == params["b"], rows
    assert f" {params['a']} " in out and f" {params['b']} " in out


def _check_browser(out: str, graph, params: dict) -> None:
    assert "query 'lineage': http" in out and "/browser/?cmd=edit&arg=" in out, out
