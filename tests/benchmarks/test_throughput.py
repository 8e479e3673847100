"""The speed benchmarks time what they say: a timed block of ganforge's loop writes no
checkpoint (the hand-written loop it is compared with writes none), and the
``torch.compile`` probe's step runs."""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from ganforge.data import DATASETS

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

_registered = dict(DATASETS._items)
import compile_probe  # noqa: E402
import step_bound  # noqa: E402
import throughput  # noqa: E402

# throughput.py registers its random-image datasets on import; the rest of the suite
# (``ganforge list``, error messages naming every dataset) must not see them
DATASETS._items.clear()
DATASETS._items.update(_registered)


def test_a_timed_block_of_the_loop_trains_and_writes_no_checkpoint(tmp_path: Path) -> None:
    task = next(t for t in throughput.TASKS if t.name == "mlp2d-disk")
    trainer = throughput.make_trainer(task, tmp_path / "run", steps=10, threads=1)
    before = [p.detach().clone() for p in trainer.G.parameters()]
    seconds = throughput.run_ganforge(trainer, 5)
    assert seconds > 0 and trainer.step == 5
    assert any(not a.equal(b) for a, b in zip(before, trainer.G.parameters(), strict=True))
    assert list((tmp_path / "run" / "checkpoints").iterdir()) == []


def test_the_compile_probe_times_the_eager_step() -> None:
    threads, rng = torch.get_num_threads(), torch.get_rng_state()
    try:  # the probe sets the process's threads and seed
        out = compile_probe.child("eager+fused", threads=1, steps=3, repeats=2)
    finally:
        torch.set_num_threads(threads)
        torch.set_rng_state(rng)
    assert out["variant"] == "eager+fused" and len(out["rates"]) == 2
    assert all(rate > 0 for rate in out["rates"])


def test_the_compiled_side_is_timed_in_the_same_rotation(capsys) -> None:
    task = throughput.Task("mlp2d-disk", "disk", "mlp2d", "nonsaturating", 16, 6, 4)
    threads = torch.get_num_threads()
    try:
        row = throughput.bench(
            task, 2, quick=True, item=True, default_threads=1, compile=True, slices=3
        )
    finally:
        torch.set_num_threads(threads)
    for key in ("ganforge_steps_per_s", "compiled_steps_per_s", "baseline_steps_per_s"):
        assert row[key] > 0
    assert row["compiled_ratio_min"] <= row["compiled_ratio"] <= row["compiled_ratio_max"]
    assert row["compiled_vs_eager"] > 0
    throughput._print_compiled([row], {1: 1e11})
    assert "mlp2d-disk" in capsys.readouterr().out


def test_a_repeat_is_split_into_interleaved_slices_of_its_steps() -> None:
    assert throughput.slice_steps(12, 4) == [3, 3, 3, 3]
    assert throughput.slice_steps(10, 4) == [3, 3, 2, 2]
    assert throughput.slice_steps(3, 4) == [1, 1, 1]  # never an empty slice
    assert throughput.slice_steps(5, 1) == [5]
    for steps, slices in ((600, 4), (7, 3), (1, 4)):
        assert sum(throughput.slice_steps(steps, slices)) == steps


def test_the_step_bound_records_every_matmul_of_a_step_forward_and_backward(tmp_path) -> None:
    """An MLP step's matrix products, counted from its layers: with ``L_G`` and ``L_D``
    linear layers, the alternating step (D on [real; fake], G through D on the same
    fakes) calls ``3 L_G + 5 L_D - 2``, the simultaneous one ``3 L_G + 7 L_D - 3``; their
    best times alone sum to less than the step takes."""
    task = next(t for t in throughput.TASKS if t.name == "mlp2d-disk")
    for update, expected in (("alternating", (3, 5, -2)), ("simultaneous", (3, 7, -3))):
        trainer = throughput.make_trainer(task, tmp_path / update, 10, threads=1, update=update)
        trainer.train_step()  # the optimizers' state exists from here on
        n_g, n_d = (
            sum(isinstance(m, torch.nn.Linear) for m in net.modules())
            for net in (trainer.G, trainer.D)
        )
        recorder = step_bound.Recorder()
        with recorder:
            trainer.train_step()
        a, b, c = expected
        assert len(recorder.calls) == a * n_g + b * n_d + c
        ops = {str(func) for func, _, _ in recorder.calls}
        assert ops == {"aten.addmm.default", "aten.mm.default"}
        bound = step_bound.kernel_bound(recorder.calls)
        step = throughput.run_ganforge(trainer, 20) / 20
        assert 0 < bound < step
