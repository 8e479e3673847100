"""Optimizer updates without the ``Optimizer.step`` wrapper.

For the small models of the toy tasks a training step is a few hundred microseconds of
arithmetic, and ``Optimizer.step`` adds its own: profiler scopes, hooks, ``_init_group``
collecting ``p.grad`` and state tensors one by one, and ``zero_grad`` before the next
backward. :class:`DirectUpdate` keeps the ``torch.optim`` optimizer (its state,
``param_groups`` and ``state_dict`` are unchanged, so checkpoints and learning-rate
schedules work as before) but hands gradients from ``torch.autograd.grad`` straight to
the optimizer's own functional kernel (``torch.optim.adam.adam`` or
``torch.optim.rmsprop.rmsprop``) with the same arguments ``step()`` would pass. The
result is bitwise the same as ``p.grad = g; opt.step()``; ``tests/training`` checks it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch.optim.adam import adam
from torch.optim.rmsprop import rmsprop

# Options that adam() and rmsprop() both take, read from the group as step() reads them.
_SHARED_OPTIONS = (
    "lr",
    "eps",
    "weight_decay",
    "maximize",
    "foreach",
    "capturable",
    "differentiable",
)


class DirectUpdate:
    """``update(params, grads)``: one step of ``opt`` (Adam or RMSprop with a single
    parameter group) on ``params`` with the given gradients."""

    def __init__(self, opt: torch.optim.Optimizer) -> None:
        if not isinstance(opt, torch.optim.Adam | torch.optim.RMSprop):
            raise TypeError(f"DirectUpdate supports Adam and RMSprop, got {type(opt).__name__}")
        if len(opt.param_groups) != 1:
            raise ValueError("DirectUpdate needs an optimizer with one parameter group")
        self.opt = opt
        self.is_adam = isinstance(opt, torch.optim.Adam)

    def __call__(
        self, params: Sequence[torch.Tensor], grads: Sequence[torch.Tensor | None]
    ) -> None:
        """Update ``params`` in place; a ``None`` gradient leaves its parameter (and
        state) alone, as ``step()`` does for ``p.grad is None``."""
        if any(g is None for g in grads):
            pairs = [(p, g) for p, g in zip(params, grads, strict=True) if g is not None]
            params, grads = [p for p, _ in pairs], [g for _, g in pairs]
        state, group = self.opt.state, self.opt.param_groups[0]
        if any(p not in state for p in params):
            # First update: the optimizer creates its state exactly as it always does.
            for p, g in zip(params, grads, strict=True):
                p.grad = g
            self.opt.step()
            for p in params:
                p.grad = None
            return
        params, grads = list(params), list(grads)
        st = [state[p] for p in params]
        steps = [s["step"] for s in st]
        common = {k: group[k] for k in _SHARED_OPTIONS}
        with torch.no_grad():
            if self.is_adam and torch.compiler.is_compiling() and _plain_adam(group):
                _compiled_adam(params, grads, st, group)
            elif self.is_adam:
                beta1, beta2 = group["betas"]
                adam(
                    params,
                    grads,
                    [s["exp_avg"] for s in st],
                    [s["exp_avg_sq"] for s in st],
                    [s["max_exp_avg_sq"] for s in st] if group["amsgrad"] else [],
                    steps,
                    amsgrad=group["amsgrad"],
                    has_complex=False,
                    beta1=beta1,
                    beta2=beta2,
                    fused=group["fused"],
                    grad_scale=None,
                    found_inf=None,
                    decoupled_weight_decay=group["decoupled_weight_decay"],
                    **common,
                )
            else:
                rmsprop(
                    params,
                    grads,
                    [s["square_avg"] for s in st],
                    [s["grad_avg"] for s in st] if group["centered"] else [],
                    [s["momentum_buffer"] for s in st] if group["momentum"] > 0 else [],
                    steps,
                    alpha=group["alpha"],
                    momentum=group["momentum"],
                    centered=group["centered"],
                    has_complex=False,
                    **common,
                )


def _plain_adam(group: dict) -> bool:
    """Adam without the options :func:`_compiled_adam` leaves to ``torch.optim``.
    (``capturable`` is not one: dynamo sets it on every group it traces.)"""
    return not (
        group["amsgrad"]
        or group["weight_decay"]
        or group["maximize"]
        or group["differentiable"]
        or torch.is_tensor(group["lr"])
    )


@torch.library.custom_op("ganforge::adam_step_scalars", mutates_args=())
def adam_step_scalars(step: torch.Tensor, lr: float, beta1: float, beta2: float) -> torch.Tensor:
    """``[-lr / (1 - beta1**t), sqrt(1 - beta2**t)]`` for Adam's step ``t``, as
    ``torch.optim.Adam`` computes them (in double precision from the step count)."""
    t = float(step)
    return torch.tensor([-lr / (1 - beta1**t), (1 - beta2**t) ** 0.5], dtype=torch.float32)


@adam_step_scalars.register_fake
def _(step: torch.Tensor, lr: float, beta1: float, beta2: float) -> torch.Tensor:
    return step.new_empty(2, dtype=torch.float32)


def _compiled_adam(
    params: list[torch.Tensor], grads: list[torch.Tensor], st: list[dict], group: dict
) -> None:
    """Adam's update as ``torch.optim.Adam``'s foreach kernel computes it, for a compiled
    graph. There the foreach kernel's bias corrections (powers of the step count) are
    fused into every elementwise loop and recomputed for each vector of every parameter:
    about 4x the update's time (0.96 against 0.24 ms for a DCGAN28's parameters). Here
    one extern call computes them once per update (the parameters of one optimizer share
    their step count: all are updated together)."""
    beta1, beta2 = group["betas"]
    exp_avgs, exp_avg_sqs = [s["exp_avg"] for s in st], [s["exp_avg_sq"] for s in st]
    steps = [s["step"] for s in st]
    torch._foreach_add_(steps, 1)
    scalars = adam_step_scalars(steps[0], group["lr"], beta1, beta2)
    torch._foreach_lerp_(exp_avgs, grads, 1 - beta1)
    torch._foreach_mul_(exp_avg_sqs, beta2)
    torch._foreach_addcmul_(exp_avg_sqs, grads, grads, 1 - beta2)
    denom = torch._foreach_sqrt(exp_avg_sqs)
    torch._foreach_div_(denom, scalars[1])
    torch._foreach_add_(denom, group["eps"])
    update = torch._foreach_div(exp_avgs, denom)
    torch._foreach_mul_(update, scalars[0])
    torch._foreach_add_(params, update)


class OptimizerStep:
    """``step(loss)``: gradients of ``loss`` for ``params`` only, then ``opt``'s update.

    Alone and unscaled (``direct``), the gradients go straight to the optimizer's kernel
    (:class:`DirectUpdate`); otherwise zero_grad, backward, all-reduce over
    ``world_size`` processes, step (fp16: through the gradient ``scaler``).
    """

    def __init__(
        self,
        opt: torch.optim.Optimizer,
        module: torch.nn.Module,
        scaler: Any = None,
        world_size: int = 1,
    ) -> None:
        self.opt, self.module, self.scaler, self.world_size = opt, module, scaler, world_size
        self.params = [p for p in module.parameters() if p.requires_grad]
        self.direct = DirectUpdate(opt) if world_size == 1 and scaler is None else None

    def __call__(self, loss: torch.Tensor) -> None:
        self.apply(self.gradients(loss))

    def gradients(
        self, loss: torch.Tensor, retain_graph: bool = False
    ) -> tuple[torch.Tensor | None, ...] | None:
        """The gradients of ``loss`` for ``params`` (direct path), or ``None`` after a
        backward that left them in ``.grad`` (averaged over processes). ``retain_graph``
        keeps the graph for a second loss that shares it."""
        if self.direct is not None:
            return torch.autograd.grad(
                loss, self.params, allow_unused=True, retain_graph=retain_graph
            )
        self.opt.zero_grad(set_to_none=True)
        scaled = self.scaler.scale(loss) if self.scaler is not None else loss
        scaled.backward(inputs=self.params, retain_graph=retain_graph)
        if self.world_size > 1:  # data parallelism: average gradients over processes
            from ganforge.training.distributed import average_gradients

            average_gradients(self.module, self.world_size)
        return None

    def apply(self, grads: tuple[torch.Tensor | None, ...] | None) -> None:
        """The optimizer update with gradients from :meth:`gradients`."""
        if self.direct is not None:
            self.direct(self.params, grads)
        elif self.scaler is not None:
            self.scaler.step(self.opt)
            self.scaler.update()
        else:
            self.opt.step()


def make_optimizer(
    name: str,
    module: torch.nn.Module,
    lr: float,
    betas: tuple[float, float],
    fused: bool = True,
) -> torch.optim.Optimizer:
    """Adam (fused kernel, or foreach with ``fused=False``) or RMSprop (foreach) over
    ``module``'s trainable parameters."""
    params = [p for p in module.parameters() if p.requires_grad]
    if name == "adam":
        if not fused:
            return torch.optim.Adam(params, lr=lr, betas=betas, foreach=True)
        return torch.optim.Adam(params, lr=lr, betas=betas, fused=True)
    return torch.optim.RMSprop(params, lr=lr, foreach=True)


def lr_factor(schedule: str, step: int, steps: int, mle_steps: int = 0) -> float:
    """Learning-rate multiplier at ``step`` of ``steps``: 1 (constant), ``1 - t``
    (linear) or ``(1 + cos πt) / 2`` (cosine), with ``t = step / steps``. The ``-phases``
    schedules (``linear-phases``, ``cosine-phases``) decay twice, with
    ``t = step / mle_steps`` over the likelihood steps and
    ``t = (step - mle_steps) / (steps - mle_steps)`` over the adversarial ones, so the
    adversarial phase starts again from the base rates; with no likelihood phase
    (``mle_steps`` 0, or ≥ ``steps``) they equal their one-phase schedule."""
    if schedule == "constant":
        return 1.0
    if schedule.endswith("-phases") and 0 < mle_steps < steps:
        start, length = (0, mle_steps) if step < mle_steps else (mle_steps, steps - mle_steps)
        frac = (step - start) / length
    else:
        frac = step / steps
    if schedule.startswith("linear"):
        return 1.0 - frac
    return 0.5 * (1.0 + math.cos(math.pi * frac))


def set_learning_rates(
    pairs: Sequence[tuple[torch.optim.Optimizer, float]], factor: float, scale: float = 1.0
) -> None:
    """Set every group's learning rate of each ``(optimizer, base lr)`` to
    ``base × factor × scale`` (``scale``: the divergence guard's reduction)."""
    for opt, base in pairs:
        for group in opt.param_groups:
            group["lr"] = base * factor * scale
