"""DirectUpdate must give bitwise the same parameters and optimizer state as the
``p.grad = g; opt.step()`` it replaces."""

from __future__ import annotations

import copy

import pytest
import torch

from ganforge.training.updates import DirectUpdate, _compiled_adam, adam_step_scalars


def _model() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))


OPTIMIZERS = {
    "adam-fused": lambda p: torch.optim.Adam(p, lr=1e-2, betas=(0.5, 0.999), fused=True),
    "adam-foreach": lambda p: torch.optim.Adam(p, lr=1e-2, foreach=True, amsgrad=True),
    "adamw-decay": lambda p: torch.optim.AdamW(p, lr=1e-2, weight_decay=0.1, fused=True),
    "rmsprop": lambda p: torch.optim.RMSprop(p, lr=5e-3, foreach=True),
    "rmsprop-centered-momentum": lambda p: torch.optim.RMSprop(
        p, lr=5e-3, centered=True, momentum=0.9, weight_decay=0.01
    ),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_direct_update_matches_optimizer_step_bitwise(name: str) -> None:
    ref, fast = _model(), _model()
    opt_ref, opt_fast = OPTIMIZERS[name](ref.parameters()), OPTIMIZERS[name](fast.parameters())
    update = DirectUpdate(opt_fast)
    params = list(fast.parameters())
    x = torch.randn(16, 3, generator=torch.Generator().manual_seed(1))
    for step in range(5):
        for group in (*opt_ref.param_groups, *opt_fast.param_groups):
            group["lr"] = 1e-2 / (1 + step)  # a schedule changes lr between steps
        opt_ref.zero_grad(set_to_none=True)
        (ref(x) ** 2).mean().backward()
        opt_ref.step()
        update(params, torch.autograd.grad((fast(x) ** 2).mean(), params))
    for a, b in zip(ref.parameters(), fast.parameters(), strict=True):
        assert torch.equal(a, b)
    sd_ref, sd_fast = opt_ref.state_dict(), opt_fast.state_dict()
    for i, st in sd_ref["state"].items():
        for key, value in st.items():
            assert torch.equal(value, sd_fast["state"][i][key]), key
    assert all(p.grad is None for p in fast.parameters())


def test_direct_update_skips_parameters_without_gradient() -> None:
    model = _model()
    opt = torch.optim.Adam(model.parameters(), lr=0.1)
    first, *rest = list(model.parameters())
    before = first.detach().clone()
    update = DirectUpdate(opt)
    for _ in range(2):
        update([first, *rest], [None, *(torch.ones_like(p) for p in rest)])
    assert torch.equal(first, before) and first not in opt.state
    assert all(opt.state[p]["step"].item() == 2 for p in rest)


def test_direct_update_rejects_other_optimizers() -> None:
    model = _model()
    with pytest.raises(TypeError, match="Adam and RMSprop"):
        DirectUpdate(torch.optim.SGD(model.parameters(), lr=0.1))
    with pytest.raises(ValueError, match="one parameter group"):
        DirectUpdate(torch.optim.Adam([{"params": [p]} for p in model.parameters()]))


def test_state_dict_round_trip_keeps_direct_updates_exact() -> None:
    """After load_state_dict (resume) the updater reads the new state tensors."""
    a, b = _model(), _model()
    opt_a, opt_b = torch.optim.Adam(a.parameters(), lr=1e-2), torch.optim.Adam(b.parameters())
    ua, ub = DirectUpdate(opt_a), DirectUpdate(opt_b)
    pa, pb = list(a.parameters()), list(b.parameters())
    grads = [torch.full_like(p, 0.3) for p in pa]
    ua(pa, grads)
    ua(pa, grads)
    b.load_state_dict(copy.deepcopy(a.state_dict()))
    opt_b.load_state_dict(copy.deepcopy(opt_a.state_dict()))
    ua(pa, grads)
    ub(pb, grads)
    assert all(torch.equal(x, y) for x, y in zip(pa, pb, strict=True))


def test_the_compiled_graphs_adam_matches_torch_adam_within_rounding() -> None:
    """Under torch.compile, DirectUpdate computes Adam's bias corrections once per update
    (``ganforge::adam_step_scalars``) instead of in every elementwise loop; the update is
    torch.optim.Adam's, step after step."""
    torch.manual_seed(0)
    ref = [torch.nn.Parameter(torch.randn(s)) for s in ((300, 40), (40,), (7, 3, 4, 4))]
    mine = [torch.nn.Parameter(p.detach().clone()) for p in ref]
    opt_ref = torch.optim.Adam(ref, lr=2e-4, betas=(0.5, 0.999), foreach=True)
    opt = torch.optim.Adam(mine, lr=2e-4, betas=(0.5, 0.999), foreach=True)
    update = DirectUpdate(opt)
    for step in range(4):
        grads = [torch.randn_like(p) for p in ref]
        for p, g in zip(ref, grads, strict=True):
            p.grad = g
        opt_ref.step()
        if step == 0:  # the first update creates the state, as step() does
            update(mine, grads)
        else:
            st = [opt.state[p] for p in mine]
            with torch.no_grad():
                _compiled_adam(mine, grads, st, opt.param_groups[0])
        for a, b in zip(ref, mine, strict=True):
            torch.testing.assert_close(b, a, rtol=1e-6, atol=1e-7)
    assert all(float(opt.state[p]["step"]) == 4 for p in mine)
    scalars = adam_step_scalars(torch.tensor(4.0), 2e-4, 0.5, 0.999)
    expected = [-2e-4 / (1 - 0.5**4), (1 - 0.999**4) ** 0.5]
    torch.testing.assert_close(scalars, torch.tensor(expected), rtol=1e-7, atol=0)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_under_compile_plain_adam_takes_the_once_per_update_scalars(amsgrad: bool) -> None:
    """Traced by dynamo, DirectUpdate's Adam calls ``ganforge::adam_step_scalars`` once
    per update; options it leaves to torch.optim (amsgrad) keep torch's foreach code."""
    torch.manual_seed(0)
    params = [torch.nn.Parameter(torch.randn(s)) for s in ((30, 4), (4,))]
    opt = torch.optim.Adam(params, lr=1e-3, foreach=True, amsgrad=amsgrad)
    update = DirectUpdate(opt)
    update(params, [torch.randn_like(p) for p in params])  # creates the state eagerly
    targets: list = []

    def record(gm: torch.fx.GraphModule, example_inputs: list) -> object:
        targets.extend(node.target for node in gm.graph.nodes)
        return gm.forward

    step = torch.compile(lambda grads: update(params, grads), backend=record, fullgraph=True)
    step([torch.randn_like(p) for p in params])
    calls = sum(t is torch.ops.ganforge.adam_step_scalars.default for t in targets)
    assert calls == (0 if amsgrad else 1)
    assert float(opt.state[params[0]]["step"]) == 2
