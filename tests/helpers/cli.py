"""Run the real `lineage` command in a subprocess (true exit codes, real stderr)."""

from __future__ import annotations

import os
import subprocess
import time
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


def wait_for_lines(proc: subprocess.Popen, prefix: str, count: int, timeout: float) -> list[str]:
    """Read ``proc``'s stderr (text mode) until ``count`` lines start with ``prefix``, or the process
    ends, or ``timeout`` passes; returns every line read. The rest of stderr keeps draining in the
    background, so the process never blocks on a full pipe."""
    import queue
    import threading

    lines: "queue.Queue[str | None]" = queue.Queue()

    def pump():
        for line in proc.stderr:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    seen, hits = [], 0
    deadline = time.monotonic() + timeout
    while hits < count:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            break
        if line is None:
            break
        seen.append(line)
        hits += line.startswith(prefix)
    proc._lineage_stderr = lines  # the rest, for callers that want it
    return seen


def drain(proc: subprocess.Popen) -> str:
    """What ``proc`` wrote to stderr after :func:`wait_for_lines` returned (after it ended)."""
    out, q = [], proc._lineage_stderr
    while True:
        line = q.get()
        if line is None:
            return "".join(out)
        out.append(line)
