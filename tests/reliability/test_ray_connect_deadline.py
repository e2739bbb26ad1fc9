"""A Ray `--address` that is well-formed but leads nowhere (#21: the connect once waited for ever)
must fail within its deadline, in one error line naming the address and the fix. Two ways a
user meets it, both real sockets: a port nobody listens on (refused at the TCP probe), and a
host that accepts the connection but never speaks Ray (the black hole a firewall or a wrong
service makes; Ray's own connect would wait there for minutes)."""

from __future__ import annotations

import socket
import time

import pytest

from tests.helpers.cli import run_cli

pytest.importorskip("ray")

DEADLINE = 8


def _error_line(proc) -> str:
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, (proc.returncode, proc.stderr)
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1, proc.stderr
    return errors[0]


@pytest.mark.parametrize("kind", ["refused", "silent"])
def test_an_unreachable_ray_address_fails_within_its_deadline(kind, tmp_path):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    if kind == "silent":
        listener.listen(1)  # the kernel completes the handshake; nothing ever answers
    else:
        listener.close()
    try:
        t0 = time.monotonic()
        proc = run_cli("extract", str(tmp_path / "no-model"), "--executor", "ray", "--address", f"127.0.0.1:{port}",
                       "--out", str(tmp_path / "out"),
                       env={"LINEAGE_CACHE_DIR": str(tmp_path / "cache"), "LINEAGE_RAY_CONNECT_TIMEOUT": str(DEADLINE),
                            "RAY_ADDRESS": None},
                       timeout=180)
        took = time.monotonic() - t0
    finally:
        listener.close()
    line = _error_line(proc)
    assert f"Ray cluster at 127.0.0.1:{port} within {DEADLINE} s" in line, line
    assert "LINEAGE_RAY_CONNECT_TIMEOUT" in proc.stderr
    # Ray's import and the interpreter's exit are outside the deadline; the connect itself is bounded
    assert took < DEADLINE + 40, took
    assert not (tmp_path / "out").exists()


def test_a_bad_connect_timeout_setting_is_refused_naming_it(monkeypatch):
    from lineage.dna.executors import connect_timeout
    from lineage.errors import ConfigError

    for bad in ("soon", "0", "-5", "nan", "100000"):
        monkeypatch.setenv("LINEAGE_RAY_CONNECT_TIMEOUT", bad)
        with pytest.raises(ConfigError, match="LINEAGE_RAY_CONNECT_TIMEOUT: needs a number of seconds"):
            connect_timeout()
    monkeypatch.setenv("LINEAGE_RAY_CONNECT_TIMEOUT", "2.5")
    assert connect_timeout() == 2.5
