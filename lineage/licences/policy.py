"""Policies as data: rules a registry's CI runs over the lineage graph (``lineage check``).

A policy is YAML::

    name: sample
    description: what the policy is for
    rules:
      - id: no-dropped-obligations          # unique; SARIF's ruleId
        description: No model drops an obligation it inherits.
        query: licence_conflicts            # a shipped read query, or
        # query_file: rules/mine.cypher     # a user .cypher file (same header format), relative to the policy
        params: {inferred_only: false}      # the query's parameters, with the types of its examples
        severity: error                     # error | warning | note
        message: "{model} drops {kind} of {origin}"   # optional; {column} takes the row's value
        model_column: model                 # optional; the column that names the model (default: model)

Every row a rule's query returns is one finding. Parsing is pure; the graph side lives
in :mod:`lineage.graph.licences`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from lineage.errors import PolicyError

#: Severities, lowest first (SARIF levels of the same names).
SEVERITIES = ("note", "warning", "error")
_RULE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")
_RULE_FIELDS = {"id", "description", "query", "query_file", "params", "severity", "message", "model_column"}
_POLICY_FIELDS = {"name", "description", "rules"}
_TEMPLATE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    description: str = ""
    query: str | None = None
    query_file: str | None = None
    params: dict = field(default_factory=dict)
    message: str | None = None
    model_column: str = "model"
    line: int = 1

    @property
    def query_name(self) -> str:
        return self.query or Path(self.query_file or "").stem


@dataclass
class Policy:
    name: str
    description: str
    rules: list[Rule]
    path: str | None = None

    def where(self, rule: Rule) -> str:
        return f"{self.path or 'policy'}:{rule.line}: rule {rule.id!r}"


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    model: str | None
    message: str
    row: dict


@dataclass
class CheckResult:
    policy: Policy
    findings: list[Finding]
    fail_on: str = "error"
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        """A finding at or above ``fail_on``."""
        floor = SEVERITIES.index(self.fail_on)
        return any(SEVERITIES.index(f.severity) >= floor for f in self.findings)

    def rows(self) -> list[dict]:
        return [{"rule": f.rule, "severity": f.severity, "model": f.model, "message": f.message} for f in self.findings]


def check_severity(value: Any, what: str) -> str:
    if value not in SEVERITIES:
        raise PolicyError(f"{what}: severity {value!r} is not one of {', '.join(SEVERITIES)}")
    return value


def _line_of(text: str, rule_id: str, nth: int = 0) -> int:
    """The line of the ``nth`` ``id: <rule_id>`` in the policy text (for messages and SARIF regions)."""
    pat = re.compile(r"^\s*(?:-\s*)?id\s*:\s*['\"]?" + re.escape(rule_id) + r"['\"]?\s*(?:#.*)?$")
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if pat.match(line)]
    return hits[nth] if nth < len(hits) else 1


def parse_policy(text: str, origin: str = "policy") -> Policy:
    """A :class:`Policy` from YAML text; anything malformed is one :class:`PolicyError` naming ``origin``."""
    from lineage.io import check_depth, load_yaml_text

    try:
        data = load_yaml_text(text)
        check_depth(data)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise PolicyError(f"{origin}{line}: not valid YAML ({getattr(e, 'problem', None) or 'parse error'})") from None
    except ValueError as e:
        raise PolicyError(f"{origin}: {e}") from None
    if not isinstance(data, dict):
        raise PolicyError(f"{origin}: a policy is a mapping with a list 'rules:'")
    extra = set(data) - _POLICY_FIELDS
    if extra:
        raise PolicyError(f"{origin}: unknown key(s) {', '.join(sorted(map(str, extra)))} (a policy has name, description, rules)")
    rules_data = data.get("rules")
    if not isinstance(rules_data, list) or not rules_data:
        raise PolicyError(f"{origin}: 'rules:' must be a non-empty list")
    rules, seen = [], set()
    for i, r in enumerate(rules_data, start=1):
        where = f"{origin}: rule {i}"
        if not isinstance(r, dict):
            raise PolicyError(f"{where} is not a mapping")
        rid = r.get("id")
        if not isinstance(rid, str) or not _RULE_ID.match(rid):
            raise PolicyError(f"{where}: 'id' must be a word of letters, digits, '.', '_' or '-'")
        line = _line_of(text, rid, int(rid in seen))
        where = f"{origin}:{line}: rule {rid!r}"
        if rid in seen:
            raise PolicyError(f"{where}: the id is used twice")
        seen.add(rid)
        extra = set(r) - _RULE_FIELDS
        if extra:
            raise PolicyError(f"{where}: unknown key(s) {', '.join(sorted(map(str, extra)))}",
                              hint=f"a rule takes: {', '.join(sorted(_RULE_FIELDS))}")
        if (r.get("query") is None) == (r.get("query_file") is None):
            raise PolicyError(f"{where}: give exactly one of 'query' (a shipped query) or 'query_file' (a .cypher file)")
        for key in ("query", "query_file", "description", "message", "model_column"):
            if r.get(key) is not None and not isinstance(r[key], str):
                raise PolicyError(f"{where}: '{key}' must be text")
        params = r.get("params") or {}
        if not isinstance(params, dict) or not all(isinstance(k, str) for k in params):
            raise PolicyError(f"{where}: 'params' must be a mapping of parameter names to values")
        rules.append(Rule(id=rid, severity=check_severity(r.get("severity", "error"), where),
                          description=r.get("description") or "", query=r.get("query"), query_file=r.get("query_file"),
                          params=dict(params), message=r.get("message"), model_column=r.get("model_column") or "model",
                          line=line))
    name = data.get("name")
    return Policy(name=str(name) if name is not None else Path(origin).stem,
                  description=str(data.get("description") or ""), rules=rules)


def load_policy(path: str | Path, *, fail_on: str = "error") -> Policy:
    """Read and parse a policy file (``fail_on`` is checked here too, before anything runs)."""
    from lineage.io import read_text_file

    check_severity(fail_on, "--fail-on")
    text = read_text_file(path, "policy", error=PolicyError)
    pol = parse_policy(text, str(path))
    pol.path = str(path)
    return pol


def _example_type(text: str) -> tuple[type, ...] | None:
    """The types a parameter accepts, from its Browser ``:param`` example (None: any)."""
    t = text.strip()
    if t[:1] in ("'", '"'):
        return (str,)
    if t.startswith("["):
        return (list,)
    if t in ("true", "false"):
        return (bool,)
    if re.fullmatch(r"-?\d+", t):
        return (int,)
    if re.fullmatch(r"-?\d+\.\d*(e-?\d+)?|-?\d+e-?\d+", t):
        return (int, float)
    return None


def check_param_types(q, rule: Rule, policy: Policy) -> None:
    """Each of the rule's parameters has the type of the query's example (its ``:param`` line);
    a parameter whose default is null may also be null."""
    examples = {}
    for line in q.browser_params:
        m = re.match(r":param\s+(\w+)\s*=>\s*(.+)$", line)
        if m:
            examples[m.group(1)] = _example_type(m.group(2))
    defaults = {p.name: p.default for p in q.params if not p.required}
    for name, value in rule.params.items():
        want = examples.get(name)
        if want is None or (value is None and name in defaults and defaults[name] is None):
            continue
        ok = isinstance(value, want) and not (isinstance(value, bool) and bool not in want)
        if not ok:
            raise PolicyError(f"{policy.where(rule)}: parameter {name!r} of query {q.name!r} must be "
                              f"{' or '.join(t.__name__ for t in want)}, not {type(value).__name__} ({value!r})")


def _text(v: Any) -> str:
    if isinstance(v, list):
        return " -> ".join(map(str, v)) if all(isinstance(x, str) for x in v) else str(v)
    return "" if v is None else str(v)


def findings_from_rows(rule: Rule, rows: list[dict]) -> list[Finding]:
    """One finding per row: the model from ``model_column``, the message from the rule's template
    (``{column}`` replaced by the row's value; an unknown column stays as written)."""
    out = []
    for row in rows:
        model = row.get(rule.model_column)
        if rule.message:
            msg = _TEMPLATE.sub(lambda m: _text(row[m.group(1)]) if m.group(1) in row else m.group(0), rule.message)
        else:
            detail = ", ".join(f"{k}={_text(v)}" for k, v in row.items()
                               if k != rule.model_column and v is not None and not str(k).startswith("hops"))
            msg = f"{rule.description or rule.id}" + (f" ({detail})" if detail else "")
        out.append(Finding(rule=rule.id, severity=rule.severity, model=None if model is None else str(model),
                           message=msg, row=row))
    return out


def shipped_policies() -> dict[str, Path]:
    """Name -> path of the policies shipped in ``lineage/data/policies``."""
    from importlib import resources

    root = resources.files("lineage.data").joinpath("policies")
    return {Path(str(p)).stem: Path(str(p)) for p in root.iterdir() if str(p).endswith(".yaml")}


def resolve_policy(name_or_path: str | Path) -> Path:
    """A policy file: the path when it exists, else the shipped policy of that name."""
    p = Path(name_or_path)
    if p.exists():
        return p
    shipped = shipped_policies()
    if str(name_or_path) in shipped:
        return shipped[str(name_or_path)]
    raise PolicyError(f"policy {str(name_or_path)!r} is neither a file nor a shipped policy",
                      hint=f"pass a policy YAML file, or one of: {', '.join(sorted(shipped))}")
