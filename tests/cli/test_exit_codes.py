"""The CLI's error contract: a user's mistake is one line and exit 2; anything else is a
bug: exit 1 with one line asking for a report, and the traceback only with --debug."""

from __future__ import annotations

import pytest

from ganforge import cli
from ganforge.errors import CheckpointError, ConfigError, DataError, OutputError


def _failing(exc: BaseException):
    def command(args):
        raise exc

    return command


@pytest.mark.parametrize(
    "exc",
    [
        ConfigError("bad option"),
        DataError("bad file"),
        CheckpointError("no run"),
        OutputError("not empty"),
        FileNotFoundError("missing.csv"),
    ],
)
def test_user_mistakes_are_one_line_and_exit_2(monkeypatch, capsys, exc) -> None:
    monkeypatch.setitem(cli.COMMANDS, "list", _failing(exc))
    assert cli.main(["list"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("ganforge: error: ")
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "exc", [ValueError("x must be positive"), KeyError("D/head"), RuntimeError("shape")]
)
def test_other_exceptions_are_bugs_exit_1_asking_for_a_report(monkeypatch, capsys, exc) -> None:
    monkeypatch.setitem(cli.COMMANDS, "list", _failing(exc))
    assert cli.main(["list"]) == 1
    err = capsys.readouterr().err
    assert f"internal error: {type(exc).__name__}" in err and "please report" in err
    assert "--debug" in err and "Traceback" not in err


def test_debug_shows_the_traceback(monkeypatch) -> None:
    monkeypatch.setitem(cli.COMMANDS, "list", _failing(RuntimeError("boom")))
    with pytest.raises(RuntimeError, match="boom"):
        cli.main(["--debug", "list"])


def test_a_bad_option_through_the_library_is_a_config_error(capsys) -> None:
    """Real path, no patching: an invalid value reaches the config's validation."""
    assert cli.main(["train", "--steps", "0", "--dry-run"]) == 2
    assert capsys.readouterr().err == "ganforge: error: steps must be >= 1, got 0\n"
