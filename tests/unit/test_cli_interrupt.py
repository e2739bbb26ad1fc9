"""Ctrl-C in any command: one line saying so, exit 130 (the shell's code for SIGINT), no traceback.

Typer turns KeyboardInterrupt into a silent exit 130 before lineage's own handler in
``main`` sees it, so the root group's ``invoke`` says it first."""

from __future__ import annotations

import pytest
import typer

from lineage.cli.app import _Group


def _app(action):
    app = typer.Typer(cls=_Group)

    @app.command()
    def run():
        action()

    @app.command()
    def other():
        pass

    return app


def test_ctrl_c_is_one_line_and_exit_130(capsys):
    def interrupted():
        raise KeyboardInterrupt

    with pytest.raises(SystemExit) as e:
        _app(interrupted)(args=["run"])
    assert e.value.code == 130
    assert capsys.readouterr().err.strip() == "interrupted"


def test_an_abort_that_is_no_interrupt_stays_aborted(capsys):
    def abort():
        raise typer.Abort()

    with pytest.raises(SystemExit) as e:
        _app(abort)(args=["run"])
    assert e.value.code == 1
    assert capsys.readouterr().err.strip() == "aborted"
