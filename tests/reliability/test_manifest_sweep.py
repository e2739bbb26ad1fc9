"""Every field of a manifest entry given values of the wrong type, generated from the
pydantic ``ManifestEntry`` model (a new field is swept as soon as it exists; a field of a
type the table below does not know fails the test until it is added). Each must end as
one ``error:`` line naming the entry and the field, exit 1, and leave the graph as it was
(node and relationship counts before and after)."""

from __future__ import annotations

import datetime as dt
import types
import typing
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lineage.cli.app import get_app
from lineage.manifest import ManifestEntry
from tests.reliability._hostile import counts, jsonl, population

pytestmark = pytest.mark.neo4j

#: Values of the wrong type for each base type a field may have.
WRONG: dict[object, list] = {
    str: [12345, 1.5, True, ["a", "b"], {"k": "v"}],
    Path: [12345, ["a"], {"k": "v"}],
    dt.date: ["2024-13-45", "yesterday", [2024, 1, 1], {"year": 2024}, 0],  # 0 was read as 1970-01-01
    int: ["many", 1.5, ["1"], {"k": 1}],
    bool: ["perhaps", 2, [True], {"k": True}],
    list: [{"k": "v"}, 12345, [1, ["nested"]]],
    typing.Literal: ["no-such-relation", 7, ["finetune"]],
}


def _base(annotation):
    """The type a (possibly optional) annotation stands for: str, Path, date, int, bool, list or Literal."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        (inner,) = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _base(inner)
    if origin is typing.Literal:
        return typing.Literal
    return origin or annotation


def _cases():
    out = []
    for name, field in ManifestEntry.model_fields.items():
        base = _base(field.annotation)
        assert base in WRONG, f"ManifestEntry.{name}: no wrong values known for {base!r}; add them to WRONG"
        out += [(name, v) for v in WRONG[base]]
    return out


CASES = _cases()


def test_the_sweep_covers_every_field():
    assert {n for n, _ in CASES} == set(ManifestEntry.model_fields)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory, _graph_session, settings):
    """A graph holding a small batch, so 'unchanged' means something."""
    from lineage.pipeline.ingest import ingest

    d = tmp_path_factory.mktemp("seed")
    _graph_session.query("clear_graph")
    rows = population(d, n=4)
    rows[1]["base_model"] = "ok0"
    ingest(jsonl(d / "seed.jsonl", rows), settings=settings)
    return d, rows, counts(_graph_session)


@pytest.mark.parametrize("field,value", CASES, ids=[f"{n}={v!r}"[:40] for n, v in CASES])
def test_wrong_type_is_one_line_and_the_graph_unchanged(field, value, seeded, _graph_session):
    d, rows, before = seeded
    entry = {"id": "new-model", "dna": "ok0.json", field: value}
    if field == "endpoint":
        entry.pop("dna")
        entry["endpoint_model"] = "m"
    path = jsonl(d / f"bad-{field}.jsonl", [*rows, entry])
    r = CliRunner().invoke(get_app(), ["ingest", str(path)])
    assert r.exit_code == 1, (r.exit_code, r.stdout, r.stderr)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert lines and lines[0].startswith("error: ") and len(lines) <= 2, r.stderr
    assert all(ln.startswith(("error: ", "hint: ")) for ln in lines), r.stderr
    assert "entry 5" in lines[0] and field in lines[0], lines[0]
    assert "Traceback" not in r.stderr + r.stdout
    assert counts(_graph_session) == before
