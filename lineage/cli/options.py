"""What the commands' options may hold, declared once; the connection flags; the settings built from them.

Every numeric option a command shares with others takes its limits from :func:`opt`
(``typer.Option`` plus the range of that option's name in :data:`LIMITS`), and every
fixed choice is a ``Literal`` type below, so a value out of range, a non-number or an
unknown choice is refused while the command line is parsed, before any work starts;
the app prints it as one ``error:`` line and exits 1. ``--help`` shows the choices and
the ranges.

Limits on settings that come from the environment or the config file (ports, DNA
dimension) are checked in :func:`settings_from`.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Callable, Literal, Optional

import typer

from lineage.settings import Settings, load_settings

_overrides: dict = {}

#: Most probes one run may ask for: the ``rand`` grammar has about 638,000 distinct
#: prompts and draws 100,000 in about a second; more only means days of generation.
MAX_PROBES = 100_000
#: Seeds go to numpy, torch and scikit-learn: the range all three accept.
MAX_SEED = 2**32 - 1

# -- fixed choices: typer turns a Literal into a choice and --help lists it ---------------
Method = Literal["nj", "upgma"]
Root = Literal["midpoint", "outgroup"]
Metric = Literal["euclidean", "cosine"]
Split = Literal["model", "family", "both"]
Classifier = Literal["null", "svm", "both"]
Dtype = Literal["auto", "float32", "bfloat16", "float16"]
Profile = Literal["tiny", "smol"]  # lineage.zoo.profiles.PROFILES (a test keeps them equal)
Executor = Literal["local", "ray"]  # lineage.dna.executors.ExecutorName
CheckFormat = Literal["table", "json", "sarif"]  # lineage check's report formats
Severity = Literal["error", "warning", "note"]  # policy rule severities (SARIF's levels)


# -- parsers for what typer's min/max cannot say ------------------------------------------
def _real(lo: float | None, hi: float | None, *, lo_open: bool = False, hi_open: bool = False) -> Callable[[Any], float]:
    """A finite float within [lo, hi] (ends open where asked); ``nan`` and ``inf`` are refused."""
    left = "" if lo is None else f"{lo:g} {'<' if lo_open else '<='} "
    right = "" if hi is None else f" {'<' if hi_open else '<='} {hi:g}"
    rule = f"{left}x{right}"

    def parse(value: Any) -> float:
        try:
            x = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{value!r} is not a number") from None
        ok = math.isfinite(x) and (lo is None or (x > lo if lo_open else x >= lo)) \
            and (hi is None or (x < hi if hi_open else x <= hi))
        if not ok:
            raise ValueError(f"{value!r} is not in the range {rule}")
        return x

    parse.rule = rule  # type: ignore[attr-defined]
    parse.invalid_examples = ("abc", "nan", "inf") + tuple(  # type: ignore[attr-defined]
        str(v) for v in ((lo - 1 if not lo_open else lo) if lo is not None else None,
                         (hi + 1 if not hi_open else hi) if hi is not None else None) if v is not None)
    return parse


def _batch_size(value: Any) -> int | str:
    """``auto`` or a positive integer (returned as ``"auto"`` or an int)."""
    text = str(value).strip()
    if text == "auto":
        return "auto"
    if text.isdigit() and int(text) >= 1:
        return int(text)
    raise ValueError(f"{value!r}: use 'auto' or a positive integer")


_batch_size.rule = "auto or an integer >= 1"  # type: ignore[attr-defined]
_batch_size.invalid_examples = ("0", "-1", "lots", "1.5")  # type: ignore[attr-defined]

_DEVICE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


def _device(value: Any) -> str:
    text = str(value).strip()
    if not _DEVICE.match(text):
        raise ValueError(f"{value!r} is not one of auto, cpu, cuda, cuda:N, mps")
    return text


_device.rule = "auto, cpu, cuda, cuda:N or mps"  # type: ignore[attr-defined]
_device.invalid_examples = ("gpu", "cuda:x", "cuda:-1")  # type: ignore[attr-defined]


def _probes(value: Any) -> str:
    text = str(value)
    if text in ("rand", "paper") or (text.startswith("paper:") and len(text) > len("paper:")) \
            or text.lower().endswith((".jsonl", ".ndjson", ".txt")):
        return text
    raise ValueError(f"{value!r}: use rand, paper, paper:<folder>, or a .jsonl/.txt file")


_probes.invalid_examples = ("random", "probes.csv")  # type: ignore[attr-defined]

_RAY_ADDRESS = re.compile(r"^(auto|local|(ray://)?[A-Za-z0-9_.\-\[\]:]+:\d{1,5})$")


def _ray_address(value: Any) -> str:
    """A Ray cluster address: ``auto``, ``local``, ``HOST:PORT`` or ``ray://HOST:PORT``."""
    text = str(value).strip()
    if not _RAY_ADDRESS.match(text):
        raise ValueError(f"{value!r} is not a Ray address (auto, HOST:PORT or ray://HOST:PORT)")
    return text


_ray_address.rule = "auto, local, HOST:PORT or ray://HOST:PORT"  # type: ignore[attr-defined]
_ray_address.invalid_examples = ("head", "http://head:8265 x", "ray://")  # type: ignore[attr-defined]

_SEED = dict(min=0, max=MAX_SEED)

#: Option name (``--n-probes`` -> ``n_probes``) -> the limits every command applies to it.
LIMITS: dict[str, dict[str, Any]] = {
    "n_probes": dict(min=1, max=MAX_PROBES),
    "max_new_tokens": dict(min=1),
    "k": dict(min=1),
    "n_splits": dict(min=2),
    "dna_dim": dict(min=1),
    "seed": _SEED,
    "probe_seed": _SEED,
    "projection_seed": _SEED,
    "random_state": _SEED,
    "temperature": dict(parser=_real(0, None)),
    "top_p": dict(parser=_real(0, 1, lo_open=True)),
    "fpr": dict(parser=_real(0, 1, lo_open=True, hi_open=True)),
    "timeout": dict(parser=_real(0, None, lo_open=True)),
    "batch_size": dict(parser=_batch_size, metavar="[auto|INTEGER]"),
    "device": dict(parser=_device, metavar="[auto|cpu|cuda|cuda:N|mps]"),
    "probes": dict(parser=_probes, metavar="[rand|paper|paper:DIR|FILE]"),
    "address": dict(parser=_ray_address, metavar="[auto|HOST:PORT|ray://HOST:PORT]", show_default=False),
}


def opt(name: str, help: str, *param_decls: str, **kw: Any) -> Any:
    """``typer.Option`` for option ``name`` (a ``LIMITS`` key), with its shared limits;
    a rule a parser enforces is added to the help text (typer shows min/max itself)."""
    limits = {**LIMITS[name], **kw}
    rule = getattr(limits.get("parser"), "rule", None)
    if rule:
        help = f"{help} [{rule}]"
    return typer.Option(*param_decls, help=help, **limits)


def connection_callback(
    ctx: typer.Context,
    uri: Annotated[Optional[str], typer.Option("--uri", help="Neo4j URI (env NEO4J_URI).", show_default=False)] = None,
    user: Annotated[Optional[str], typer.Option("--user", help="Neo4j user (env NEO4J_USER).", show_default=False)] = None,
    database: Annotated[Optional[str], typer.Option("--database", help="Neo4j database (env NEO4J_DATABASE).", show_default=False)] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Also show third-party libraries' progress bars and warnings (transformers, Hugging Face, torch).")] = False,
) -> None:
    """Global flags: the connection (the password comes only from the environment, the config
    file or the local password file) and --verbose. Without --verbose, third-party progress
    bars and warnings stay off the terminal while the command runs."""
    _overrides.clear()
    _overrides.update(neo4j_uri=uri, neo4j_user=user, neo4j_database=database)
    if not verbose:
        from lineage.cli._progress import quiet_third_party

        ctx.call_on_close(quiet_third_party())  # restored when the command ends (tests run many in one process)


def settings_from(**extra) -> Settings:
    """Settings from CLI flags > environment > config file > local default.

    A value the settings' types refuse raises pydantic's ValidationError (the app prints
    one line naming the setting, never its value); a port outside 1..65535 or a DNA
    dimension below 1 raises :class:`~lineage.errors.ConfigError`.
    """
    from lineage.errors import ConfigError

    s = load_settings(**{**_overrides, **extra})
    for field in ("bolt_port", "http_port"):
        if not 1 <= getattr(s, field) <= 65535:
            env = f"LINEAGE_{field.upper()}"
            raise ConfigError(f"setting {field} ({env}) must be a port number 1..65535",
                              hint=f"set {env} or `{field}` in the config file to a free port")
    if s.dna_dim < 1:
        raise ConfigError("setting dna_dim (LINEAGE_DNA_DIM) must be at least 1",
                          hint="set LINEAGE_DNA_DIM or `dna_dim` in the config file to a positive integer")
    return s
