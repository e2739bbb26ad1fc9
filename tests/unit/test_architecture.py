"""House rules that keep the code base honest: Cypher only in .cypher files, a pure numeric core,
lazy heavy imports, and every CLI command helped and documented."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CYPHER_IN_STRING = re.compile(r"""["'](?:\s*)(MATCH|MERGE|UNWIND|CREATE (?:CONSTRAINT|INDEX|VECTOR)|DETACH DELETE|CALL db\.)\b""")


def _python_sources():
    for folder in ("lineage", "loaders"):
        yield from (ROOT / folder).rglob("*.py")


def test_no_cypher_in_python_strings():
    offenders = []
    for path in _python_sources():
        for n, line in enumerate(path.read_text().splitlines(), start=1):
            if CYPHER_IN_STRING.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not offenders, "Cypher belongs in cypher/*.cypher:\n" + "\n".join(offenders)


def test_every_cypher_file_parses_and_declares_its_parameters():
    from lineage.graph.queries import load_library

    lib = load_library()
    files = sorted(p.stem for p in (ROOT / "cypher").glob("*.cypher"))
    assert lib.names() == files
    for q in lib:
        assert q.description, q.name
        if q.mode == "read":
            # Browser users need a ready :param line for every parameter.
            declared = {p.name for p in q.params}
            pasted = {re.match(r":param\s+(\w+)", b).group(1) for b in q.browser_params}
            assert declared == pasted, q.name


def test_query_file_errors_name_path_and_line(tmp_path):
    from lineage.errors import QueryError
    from lineage.graph.queries import parse_query_file

    with pytest.raises(QueryError, match="x.cypher: parameter\\(s\\) used but not declared: k"):
        parse_query_file(tmp_path / "x.cypher", "// mode: read\nMATCH (n) RETURN n LIMIT $k")
    with pytest.raises(QueryError, match="declared but not used: k"):
        parse_query_file(tmp_path / "x.cypher", "// mode: read\n// param k: n\nMATCH (n) RETURN n")
    with pytest.raises(QueryError, match="x.cypher:1: missing or invalid"):
        parse_query_file(tmp_path / "x.cypher", "MATCH (n) RETURN n")
    q = parse_query_file(tmp_path / "x.cypher", "// mode: read\n// param k = 5: n\nMATCH (n) // $notparam\nRETURN '$str', n LIMIT $k")
    assert q.bind({}) == {"k": 5}


def _imports_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys; print(' '.join(sys.modules))"],
                         capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_import_and_help_stay_light():
    mods = _imports_after("import lineage, lineage.cli.app; lineage.cli.app.get_app()")
    assert not {"torch", "transformers", "neo4j", "sentence_transformers"} & mods


def test_numeric_core_imports_no_io_libraries():
    mods = _imports_after("import importlib, pkgutil, lineage.core as c\n"
                          "[importlib.import_module('lineage.core.' + m.name) for m in pkgutil.iter_modules(c.__path__)]")
    # the one check of the core's imports (test_projection and test_analysis each had a partial copy);
    # sklearn is imported only inside the one function that fits a classifier
    assert not {"torch", "transformers", "neo4j", "httpx", "sentence_transformers", "sklearn"} & mods


def test_every_command_has_help_and_is_in_readme():
    import typer.main

    from lineage.cli.app import get_app

    readme = (ROOT / "README.md").read_text()
    group = typer.main.get_command(get_app())
    names = []
    for name, cmd in group.commands.items():
        if hasattr(cmd, "commands"):
            names += [(f"{name} {sub}", c) for sub, c in cmd.commands.items()]
        else:
            names.append((name, cmd))
    for full, cmd in names:
        assert (cmd.help or "").strip(), f"`lineage {full}` has no help"
        assert "Example:" in cmd.help, f"`lineage {full}` help lacks an example"
        assert f"lineage {full}" in readme, f"`lineage {full}` is not documented in README.md"


def _lineage_imports(path: Path) -> set[str]:
    """Every ``lineage...`` module a source file imports, at any depth (function-level imports too)."""
    import ast

    tree = ast.parse(path.read_text(), filename=str(path))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.add(node.module)
            out |= {f"{node.module}.{a.name}" for a in node.names}
    return {m for m in out if m == "lineage" or m.startswith("lineage.") or m.split(".")[0] in ("torch", "transformers")}


def _modules(folder: str) -> list[Path]:
    return sorted((ROOT / "lineage" / folder).rglob("*.py"))


def test_layers_import_only_downwards():
    # the numeric core imports nothing of lineage above it
    for path in _modules("core"):
        above = {m for m in _lineage_imports(path) if m.startswith("lineage.") and not m.startswith("lineage.core")}
        assert not above, f"{path.relative_to(ROOT)} imports {sorted(above)}"
    # the graph side is the database adapter only: it never runs a model, reads model files or DNAs
    # (the pipeline floor does, and hands the graph rows)
    for path in _modules("graph"):
        below = {m for m in _lineage_imports(path)
                 if m.startswith(("lineage.loaders", "lineage.dna", "lineage.evidence", "lineage.pipeline", "torch",
                                  "transformers"))}
        assert not below, f"{path.relative_to(ROOT)} imports {sorted(below)}"
    # the model-reading layers never reach up to the pipeline
    for folder in ("dna", "evidence", "export", "zoo"):
        for path in _modules(folder):
            up = {m for m in _lineage_imports(path) if m.startswith(("lineage.pipeline", "lineage.cli"))}
            assert not up, f"{path.relative_to(ROOT)} imports {sorted(up)}"
    # commands never import each other (shared pieces live in the cli's private modules)
    commands = {p.stem for p in _modules("cli") if not p.stem.startswith("_") and p.stem not in ("app", "options")}
    for path in _modules("cli"):
        other = {m for m in _lineage_imports(path) if m.split(".")[:2] == ["lineage", "cli"] and len(m.split(".")) > 2
                 and m.split(".")[2] in commands and m.split(".")[2] != path.stem}
        if path.stem != "app":
            assert not other, f"{path.relative_to(ROOT)} imports the command module(s) {sorted(other)}"


def test_packages_named_in_pyproject_exist_and_cover_the_tree():
    import tomllib

    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(cfg["packages"])
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "lineage").rglob("__init__.py")}
    assert on_disk <= listed, f"packages missing from pyproject.toml: {sorted(on_disk - listed)}"


def _module_graph() -> dict[str, set[str]]:
    """Module -> the lineage modules it imports (any depth, function-level imports included;
    a package's own parents are left out: importing ``a.b.c`` runs ``a/__init__`` by design)."""
    files = {}
    for path in list((ROOT / "lineage").rglob("*.py")) + list((ROOT / "loaders").rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        parts = ["lineage", *parts] if parts[0] == "loaders" else parts
        files[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph = {}
    for mod, path in files.items():
        deps = set()
        for name in _lineage_imports(path):
            while name and name not in files:
                name = name.rpartition(".")[0]
            if name and name != mod and not mod.startswith(name + "."):
                deps.add(name)
        graph[mod] = deps
    return graph


def test_no_import_circles():
    import networkx as nx

    g = nx.DiGraph([(a, b) for a, deps in _module_graph().items() for b in deps])
    circles = [sorted(c) for c in nx.strongly_connected_components(g) if len(c) > 1]
    assert not circles, f"import circles: {circles}"
    # the guard itself: a planted circle is found
    g.add_edge("lineage.core.measure.distances", "lineage.core.infer.tree")
    assert any(len(c) > 1 for c in nx.strongly_connected_components(g))
