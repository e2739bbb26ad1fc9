"""Smaller guards, each as a user hits it: sourcing bootstrap.sh keeps the shell's options,
`db unlock` never breaks a live lock, Browser links only for read queries, CSV and table
output verbatim and harmless, altered cached answers detected, a full disk while drawing
the tree is one line."""

from __future__ import annotations

import csv
import io
import json
import os
import socket
import subprocess
from pathlib import Path

import pytest

from tests.helpers.cli import assert_one_line_error, run_cli
from tests.reliability._hostile import dna_file, jsonl, population

ROOT = Path(__file__).resolve().parents[2]


def test_sourcing_bootstrap_keeps_the_callers_shell_options():
    script = (f"set +euo pipefail; source {ROOT}/scripts/bootstrap.sh >/dev/null 2>&1; echo rc=$?; "
              "set -o | grep -E '^(errexit|nounset|pipefail)'; false; echo still-here")
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=600).stdout
    assert "rc=0" in out and "still-here" in out, out
    assert all(line.split()[1] == "off" for line in out.splitlines() if line.startswith(("errexit", "nounset", "pipefail")))


def test_browser_link_is_refused_for_a_write_query(tmp_path):
    proc = run_cli("db", "browser", "--query", "clear_graph", env={"LINEAGE_STATE_DIR": str(tmp_path)})
    assert_one_line_error(proc, "clear_graph", "read queries")
    assert proc.stdout == ""
    ok = run_cli("db", "browser", "--query", "lineage", env={"LINEAGE_STATE_DIR": str(tmp_path)})
    assert ok.returncode == 0 and "cmd=edit" in ok.stdout, ok.stderr


@pytest.mark.neo4j
def test_unlock_refuses_a_live_holder_and_needs_force_for_another_machine(graph):
    live = f"{socket.gethostname()}:{os.getpid()}:live"  # this test process: alive
    graph.query("acquire_ingest_lock", owner=live)
    try:
        assert_one_line_error(run_cli("db", "unlock"), "still running on this machine")
        assert graph.query("ingest_lock_holder")[0]["owner"] == live
    finally:
        graph.query("release_ingest_lock", owner=live)
    graph.query("acquire_ingest_lock", owner="elsewhere:123:abcd")
    assert_one_line_error(run_cli("db", "unlock"), "another machine")
    assert graph.query("ingest_lock_holder")[0]["owner"] == "elsewhere:123:abcd"
    assert run_cli("db", "unlock", "--force").returncode == 0
    assert graph.query("ingest_lock_holder") == []
    dead = f"{socket.gethostname()}:{2**22 + 12345}:dead"  # no such pid here
    graph.query("acquire_ingest_lock", owner=dead)
    assert run_cli("db", "unlock").returncode == 0
    assert graph.query("ingest_lock_holder") == []


HOSTILE_IDS = ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "@SUM(A1)", "[bold]red[/]", "[/]",
               "esc\x1b]0;owned\x07id", "csi\x9b31mid"]


@pytest.mark.neo4j
def test_csv_and_table_output_show_ids_verbatim_and_harmless(tmp_path, graph, settings):
    from lineage.pipeline.ingest import ingest

    rows = population(tmp_path, n=3)
    for i, mid in enumerate(HOSTILE_IDS):
        dna_file(tmp_path / f"h{i}.json", mid)
        rows.append({"id": mid, "dna": f"h{i}.json", "family": "=cmd|' /C calc'!A0"})
    ingest(jsonl(tmp_path / "m.jsonl", rows), settings=settings)
    proc = run_cli("query", "models", "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    assert "\x1b" not in proc.stdout and "\x9b" not in proc.stdout and "\x07" not in proc.stdout
    cells = [c for row in csv.reader(io.StringIO(proc.stdout)) for c in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")], cells
    assert "'=HYPERLINK(\"http://x\",\"y\")" in cells and "[bold]red[/]" in cells and "'-2+3" in cells
    table = run_cli("query", "models", env={"COLUMNS": "1000"})
    assert table.returncode == 0 and "Traceback" not in table.stderr, table.stderr
    assert "[bold]red[/]" in table.stdout and "[/]" in table.stdout and "\x1b]" not in table.stdout
    js = run_cli("query", "models", "--format", "json")
    assert set(HOSTILE_IDS) <= {r["model"] for r in json.loads(js.stdout)}  # JSON keeps data exact


@pytest.mark.neo4j
def test_failed_model_with_markup_in_its_id_is_reported_verbatim(tmp_path, graph):
    rows = population(tmp_path, n=3)
    rows.append({"id": "[/]broken[red]", "dna": "missing.json"})
    proc = run_cli("ingest", str(jsonl(tmp_path / "m.jsonl", rows)))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert "[/]broken[red]" in proc.stderr


def test_altered_cached_answers_are_detected_and_regenerated(tmp_path, caplog):
    from lineage.dna.cache import ResponseCache

    cache = ResponseCache(tmp_path)
    cache.save("k", ["a", None, "c"], {"model": "m"})
    assert cache.load("k", 3) == ["a", None, "c"]
    path = cache.path("k")
    data = json.loads(path.read_text())
    data["answers"][0] = "tampered"
    path.write_text(json.dumps(data))
    with caplog.at_level("WARNING", logger="lineage"):
        assert cache.load("k", 3) == [None, None, None]
    assert "not trusted" in caplog.text and str(path) in caplog.text
    data.pop("seal")
    path.write_text(json.dumps(data))
    assert cache.load("k", 3) == [None, None, None]


def test_tree_picture_shows_ids_with_dollars_and_escapes(tmp_path):
    ids = ["a$\\frac$b", "$x^2$", "esc\x1b[31m", "plain"]
    files = [str(dna_file(tmp_path / f"d{i}.json", m)) for i, m in enumerate(ids)]
    proc = run_cli("tree", *files, "--out", str(tmp_path / "out"))
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert (tmp_path / "out" / "tree.svg").stat().st_size > 0


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_tree_picture_into_a_device_is_refused_before_anything_is_written(tmp_path):
    files = [str(dna_file(tmp_path / f"d{i}.json", f"m{i}")) for i in range(4)]
    out = tmp_path / "out"
    out.mkdir()
    (out / "tree.png").symlink_to("/dev/full")  # a device is never written into, nor replaced
    proc = run_cli("tree", *files, "--out", str(out))
    assert_one_line_error(proc, str(out / "tree.png"), "not a regular file")
    assert sorted(p.name for p in out.iterdir()) == ["tree.png"] and (out / "tree.png").is_symlink()


def test_directory_given_as_dna_file_to_tree(tmp_path):
    files = [str(dna_file(tmp_path / f"d{i}.json", f"m{i}")) for i in range(3)]
    # a folder stands for its *.dna.json files; one that holds none is named in one line
    assert_one_line_error(run_cli("tree", *files, str(tmp_path), "--out", str(tmp_path / "o")),
                          "holds no .dna.json files")
