"""Run the real `lineage` command in a subprocess (true exit codes, real stderr)."""

from __future__ import annotations

import os
import subprocess
import sys


def run_cli(*args: str, env: dict | None = None, timeout: float = 600, input: str | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **{k: v for k, v in (env or {}).items() if v is not None}}
    for k in [k for k, v in (env or {}).items() if v is None] + ["LINEAGE_DEBUG"]:
        full_env.pop(k, None)  # None in env: unset the variable
    return subprocess.run([sys.executable, "-m", "lineage", *args], capture_output=True, text=True,
                          env=full_env, timeout=timeout, input=input)


def assert_one_line_error(proc: subprocess.CompletedProcess, *needles: str) -> str:
    """A user mistake: exit 1, `error:` + optional `hint:` on stderr, no traceback."""
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout, proc.stderr
    lines = [l for l in proc.stderr.strip().splitlines() if l.strip()]
    assert lines and lines[0].startswith("error: "), proc.stderr
    assert len(lines) <= 2 and all(l.startswith(("error: ", "hint: ")) for l in lines), proc.stderr
    for n in needles:
        assert n in lines[0], (n, lines[0])
    return lines[0]
