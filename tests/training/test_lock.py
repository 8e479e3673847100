"""One run per directory, for the lock files a crash or another machine leaves behind: a
torn lock (empty or garbage, a process killed while writing it) is stale and taken over;
a lock owned by a process on another host is honoured even when no such pid exists here
(this host cannot see that machine's processes)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import tiny_config
from ganforge import train
from ganforge.cli import main
from ganforge.training.checkpoint import load_checkpoint


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("lock") / "run"
    train(tiny_config(out=str(out), steps=4, checkpoint_every=2))
    return out


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _resume(run: Path) -> int:
    return main(["train", "--resume", str(run), "--steps", "6", "--quiet"])


@pytest.mark.parametrize(
    "content", [b"", b'{"pid": 12', b"\x00\xff garbage"], ids=["empty", "torn-json", "garbage"]
)
def test_a_torn_lock_file_is_stale_and_taken_over(finished_run, tmp_path, content) -> None:
    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    (run / "lock").write_bytes(content)
    assert _resume(run) == 0
    assert load_checkpoint(run).step == 6
    assert not (run / "lock").exists(), "released after the run"


def test_a_lock_owned_by_another_host_is_refused(finished_run, tmp_path, capsys) -> None:
    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    pid = _dead_pid()  # dead here, but it names a process on the other machine
    owner = {"pid": pid, "host": "another-host.example", "time": 0.0}
    (run / "lock").write_text(json.dumps(owner))
    assert _resume(run) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert f"in use by process {pid} on another-host.example" in err
    assert json.loads((run / "lock").read_text()) == owner, "the owner's lock is left alone"
    assert load_checkpoint(run).step == 4, "nothing trained"
