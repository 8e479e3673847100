"""CPU memory reuse (hardware.keep_freed_memory): fresh processes, since it is process-wide."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc")

# Page faults taken by 20 "steps", each allocating and filling tensors of 1, 2, ..., 8 MiB
# (9,216 pages in all), then freeing them oldest first, as a step frees its activations,
# before and after building a CPU trainer (each after a warm-up pass); prints
# "<faults> <faults> <kept>".
PROBE = """
import resource, sys, tempfile
import torch
from ganforge.config import TrainConfig
from ganforge.training import hardware
from ganforge.training.trainer import Trainer

def faults():
    start = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(20):
        xs = [torch.empty(mib * 2**20 // 4).fill_(1.0) for mib in range(1, 9)]
        del xs
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - start

faults()
before = faults()
Trainer(TrainConfig(dataset="ring8", steps=1, out=tempfile.mkdtemp()))
faults()
after = faults()
print(before, after, hardware.keep_freed_memory())
"""


def probe(**env: str) -> tuple[int, int, bool]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("MALLOC_", "GLIBC_"))}
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env={**environ, **env}, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    before, after, kept = out.stdout.split()
    return int(before), int(after), kept == "True"


def test_a_cpu_trainer_keeps_freed_memory_so_steps_stop_page_faulting() -> None:
    # Before the trainer, glibc's defaults fault or not depending on their history (the
    # mmap threshold rises by itself as large blocks are freed), so only ``after`` is
    # pinned; the test below shows that the same pattern faults on every pass when
    # malloc returns its memory.
    _, after, kept = probe()
    assert kept
    assert after < 500


def test_malloc_settings_from_the_environment_are_left_alone() -> None:
    before, after, kept = probe(MALLOC_TRIM_THRESHOLD_="131072")
    assert not kept
    assert before > 20 * 4000  # memory given back: faulted in again, step after step
    assert after > 20 * 4000
