"""No destructive operation without the lock, no output over what is not a file: `db clear`
during an ingest is refused naming the holder (the graph unchanged), and exports, reports and
tree files never replace or write into a device, a directory or a link to one."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.cli import assert_one_line_error, run_cli
from tests.reliability._hostile import counts, dna_file, jsonl, population


@pytest.fixture()
def ingested(tmp_path, graph):
    proc = run_cli("ingest", str(jsonl(tmp_path / "m.jsonl", population(tmp_path, n=4))))
    assert proc.returncode == 0, proc.stderr
    return counts(graph)


@pytest.mark.neo4j
def test_db_clear_while_an_ingest_holds_the_lock_is_refused_naming_it(ingested, graph):
    from lineage.graph.lock import IngestLock

    assert ingested[("node", "Model")] == 4
    with IngestLock(graph) as lock:  # this test process stands for a running ingest
        proc = run_cli("db", "clear", "--yes")
        assert_one_line_error(proc, "cannot clear the database", lock.owner)
        assert "nothing was deleted" in proc.stderr
        held = graph.query("ingest_lock_holder")
        assert [r["owner"] for r in held] == [lock.owner]  # the lock itself survives
        assert counts(graph) == {**ingested, ("node", "IngestLock"): 1}
    assert counts(graph) == ingested
    proc = run_cli("db", "clear", "--yes")
    assert proc.returncode == 0, proc.stderr
    assert counts(graph) == {} and graph.query("ingest_lock_holder") == []


@pytest.mark.neo4j
def test_db_clear_takes_over_the_lock_of_a_dead_ingest(ingested, graph):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    owner = f"{socket.gethostname()}:{int(dead.stdout)}:feedbeef"
    graph.query("acquire_ingest_lock", owner=owner)  # what a killed ingest leaves behind
    proc = run_cli("db", "clear", "--yes")
    assert proc.returncode == 0, proc.stderr
    assert counts(graph) == {}


@pytest.mark.neo4j
def test_an_ingest_after_a_refused_clear_still_finds_its_models(ingested, graph, tmp_path):
    """The issue's sequence, with the lock honoured: the clear is refused, and the graph an ingest
    wrote keeps every model (before, the ingest exited 0 with clades and no models)."""
    from lineage.graph.lock import IngestLock

    with IngestLock(graph):
        assert run_cli("db", "clear", "--yes").returncode == 1
    rows = population(tmp_path, n=2, prefix="more")
    proc = run_cli("ingest", str(jsonl(tmp_path / "m2.jsonl", rows)))
    assert proc.returncode == 0, proc.stderr
    assert counts(graph)[("node", "Model")] == 6


def _device() -> Path:
    for d in ("/dev/full", "/dev/null"):
        if Path(d).exists():
            return Path(d)
    pytest.skip("no /dev/full or /dev/null")


def _targets(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    dev = _device()
    (tmp_path / "a-folder").mkdir()
    (tmp_path / "link-to-device").symlink_to(dev)
    (tmp_path / "link-to-folder").symlink_to(tmp_path / "a-folder")
    return {"device": (dev, "not a regular file"), "folder": (tmp_path / "a-folder", "is a directory"),
            "link_to_device": (tmp_path / "link-to-device", "not a regular file"),
            "link_to_folder": (tmp_path / "link-to-folder", "is a directory")}


def _unchanged(path: Path, before: os.stat_result) -> None:
    after = os.lstat(path)
    assert (after.st_mode, after.st_ino) == (before.st_mode, before.st_ino), path


@pytest.mark.neo4j
@pytest.mark.parametrize("case", ["device", "folder", "link_to_device", "link_to_folder"])
def test_export_and_report_never_replace_what_is_not_a_file(case, ingested, graph, tmp_path):
    target, needle = _targets(tmp_path)[case]
    before = os.lstat(target)
    for args in (["export", "--format", "json", "--out", str(target)],
                 ["export", "--format", "graphml", "--out", str(target)],
                 ["report", "ok0", "--out", str(target)]):
        assert_one_line_error(run_cli(*args), str(target), needle)
        _unchanged(target, before)
    if case == "device":
        assert stat.S_ISCHR(os.stat(target).st_mode)
    assert counts(graph) == ingested


@pytest.mark.neo4j
def test_export_over_a_regular_file_or_a_link_to_one_still_works(ingested, tmp_path):
    old = tmp_path / "old.json"
    old.write_text("previous export")
    link = tmp_path / "link.json"
    link.symlink_to(old)
    for out in (old, link, tmp_path / "new" / "fresh.json"):
        proc = run_cli("export", "--format", "json", "--out", str(out))
        assert proc.returncode == 0, proc.stderr
        assert '"ok0"' in out.read_text()


@pytest.mark.neo4j
def test_report_all_into_an_existing_file_is_one_line(ingested, tmp_path):
    existing = tmp_path / "reports.html"
    existing.write_text("keep me")
    assert_one_line_error(run_cli("report", "--all", "--out", str(existing)), str(existing), "not a folder")
    assert existing.read_text() == "keep me"


@pytest.mark.parametrize("case", ["device", "folder", "link_to_device"])
def test_tree_files_never_replace_what_is_not_a_file(case, tmp_path):
    files = [str(dna_file(tmp_path / f"d{i}.json", f"m{i}")) for i in range(4)]
    target, needle = _targets(tmp_path)[case]
    out = tmp_path / "out"
    out.mkdir()
    (out / "tree.nwk").symlink_to(target)
    proc = run_cli("tree", *files, "--out", str(out))
    assert_one_line_error(proc, str(out / "tree.nwk"), needle)
    assert sorted(p.name for p in out.iterdir()) == ["tree.nwk"] and (out / "tree.nwk").is_symlink()


@pytest.mark.neo4j
@pytest.mark.parametrize("damage", ["garbage", "empty", "missing", "another_pid", "directory"])
def test_a_damaged_pid_file_never_hides_the_running_server(damage, settings):
    """`db status` finds the server among the processes when its pid file lies, and repairs the
    file; before, it said "not running" and `db stop` said "was not running" (exit 0)."""
    import json

    from lineage.graph import server

    if not settings.is_local:
        pytest.skip("the suite's server is not the local one")
    pid_file = server._pid_file(settings)
    real = int(pid_file.read_text())
    try:
        pid_file.unlink()
        if damage == "garbage":
            pid_file.write_bytes(b"\xff\xfe not a pid")
        elif damage == "empty":
            pid_file.write_text("")
        elif damage == "another_pid":
            pid_file.write_text(str(os.getpid()))  # a live process, but not Neo4j
        elif damage == "directory":
            pid_file.mkdir()
        proc = run_cli("db", "status", "--format", "json")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        st = json.loads(proc.stdout)[0]
        assert st["running"] is True and st["pid"] == real, st
        if damage != "directory":  # a folder in its place is left for the user; the answer stands
            assert pid_file.read_text() == str(real)
    finally:
        if pid_file.is_dir():
            pid_file.rmdir()
        pid_file.write_text(str(real))


ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("case", ["folder_with_files", "file", "link_to_folder"])
def test_bootstrap_never_deletes_a_folder_it_did_not_make(case, tmp_path):
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.tex").write_text("years of work")
    target = {"folder_with_files": precious, "file": precious / "thesis.tex",
              "link_to_folder": tmp_path / "link"}[case]
    if case == "link_to_folder":
        target.symlink_to(precious)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV",)}
    env["LINEAGE_VENV"] = str(target)
    proc = subprocess.run(["bash", "-c", f"source {ROOT / 'scripts' / 'bootstrap.sh'}"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0, proc.stderr
    assert str(target) in proc.stderr and "bootstrap:" in proc.stderr
    assert sorted(p.name for p in precious.iterdir()) == ["thesis.tex"]
    assert (precious / "thesis.tex").read_text() == "years of work"
