"""``--sync-batchnorm``: with batch-norm statistics shared across processes, a
two-process step on halves of a batch is the one-process step on the whole batch.

Checked against a CPU all-reduce batch norm written for the purpose: the test passes with
it and fails when the statistics are not shared (each process normalising its own half)."""

import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from ganforge.training.trainer import Trainer

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
import ddp_step_script as base  # noqa: E402
import ddp_syncbn_script as script  # noqa: E402
from test_distributed import torchrun  # noqa: E402 - one launcher, with its retry


def test_sync_batchnorm_on_cpu_processes_stops_at_start_with_one_clear_line(tmp_path):
    """torch's SyncBatchNorm runs on GPUs only: on CPU processes the run is refused
    before anything is written, naming the flag, instead of failing in the first step."""
    out = tmp_path / "ddp.safetensors"
    proc = torchrun(str(HERE / "ddp_syncbn_script.py"), str(out), "sync")
    assert proc.returncode != 0 and not out.exists()
    assert "--sync-batchnorm needs CUDA devices" in proc.stderr


@pytest.mark.skipif(
    not torch.cuda.is_available() or torch.cuda.device_count() < 2,
    reason="torch.nn.SyncBatchNorm needs GPU tensors (two GPUs for two processes)",
)
def test_two_process_step_with_sync_batchnorm_equals_one_process_on_the_whole_batch(tmp_path):
    out = tmp_path / "ddp.safetensors"
    proc = torchrun(str(HERE / "ddp_syncbn_script.py"), str(out), "sync")
    assert proc.returncode == 0, proc.stderr[-2000:]
    ddp = load_file(str(out))

    single = Trainer(script.config(base.GLOBAL_BATCH, sync=False))
    before = base.weights(single)
    base.step(single, 0, base.GLOBAL_BATCH)
    ref = base.weights(single)
    assert ddp.keys() == ref.keys()
    stats = [k for k in ref if k.endswith("running_mean")]
    assert stats and all(k.startswith("G/") for k in stats)
    assert all(not torch.equal(ref[k], before[k]) for k in stats)
    for k in ref:  # the statistics of the whole batch, and the weights they lead to
        torch.testing.assert_close(ddp[k], ref[k], atol=1e-6, rtol=1e-5, msg=k)
