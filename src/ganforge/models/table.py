"""The table model (CTGAN, Xu et al. 2019): output heads shaped by the table's columns.

Generator ``G(z, y=None)``: ``z (B, noise_dim)`` and a condition vector ``c (B, cond_dim)``
(a value of one categorical column, and of the anchor column, see below) go through residual layers
(``h -> concat(ReLU(BN(W h)), h)``, one per ``g_hidden`` width) and a linear map to the
row's dimensions; each block of the layout gets its activation: ``tanh`` for
mode-normalised values, Gumbel-softmax (temperature :data:`TAU`) for one-hot blocks
(modes, categories, booleans, missing flags). The output is ``(B, row_dim + cond_dim)``:
the row, then ``c``, so the discriminator judges each row with its condition.

Heads (``table_heads``): ``independent`` is CTGAN's single linear map, every block drawn
with its own Gumbel noise, so two one-hot blocks are related only through the logits: a
row drawn rare by the noise of one block keeps what the latent vector chose for the
others (docs/BENCHMARKS.md, Tables). ``sequential`` computes the blocks in the row's
order, each block's logits a linear map of the last hidden layer plus a linear map of the
values already drawn for the blocks before it (``(B, sum of earlier sizes)``), so a later
column sees what an earlier one became.

Conditions: with ``y`` ``(B,)`` int64 (flat condition indices, e.g. from ``--where``) G
uses them. Without, G draws them itself: a condition column (uniformly; layouts saved
before anchors may weight the columns when sampling), then one of its values with capped
log-frequency probabilities while training (what training-by-sampling draws for the real
rows) and with the data's frequencies when sampling, so unconditional samples follow the
data. When the layout has an anchor column (:mod:`ganforge.data.table.conditions`), a row
conditioned on another column also gets an anchor value, drawn from the training rows'
``p(anchor | that value)``: the condition vector then has two positions set. In eval mode
a conditioned column's block holds its condition's one-hot, not its own Gumbel draw. In
eval mode the draws (conditions and the Gumbel noise) come from a generator seeded from
``z``'s bytes: samples are a function of the noise, reproducible from the sampling seed.
While training they use torch's global stream, which checkpoints store.

G also offers :meth:`TableGenerator.generator_terms`: CTGAN's condition loss, the
cross-entropy between each condition and the generated value of its column, which the
objective adds to G's loss as ``cond``.

Discriminator: the MLP critic (LeakyReLU(0.2), dropout ``d_dropout``) on the row and its
condition; PacGAN packing as for every model (``pack``).
"""

from __future__ import annotations

import hashlib
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ganforge.config import ModelConfig
from ganforge.errors import ConfigError
from ganforge.models.mlp import MLPDiscriminator

TAU = 0.2
EPS = 1e-10


class Residual(nn.Module):
    """``(B, i) -> (B, i + o)``: ``concat(ReLU(BN(W x)), x)``."""

    def __init__(self, i: int, o: int, batch_norm: bool = True) -> None:
        super().__init__()
        self.fc = nn.Linear(i, o)
        self.bn = nn.BatchNorm1d(o) if batch_norm else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([F.relu(self.bn(self.fc(x))), x], dim=1)


def _padded(probs: list[list[float]]) -> torch.Tensor:
    """Per condition column probabilities, zero-padded to one matrix ``(n_cond, K_max)``."""
    width = max(len(p) for p in probs)
    return torch.tensor([list(p) + [0.0] * (width - len(p)) for p in probs], dtype=torch.float64)


class TableGenerator(nn.Module):
    def __init__(self, cfg: ModelConfig, layout: dict[str, Any]) -> None:
        super().__init__()
        self.noise_dim = cfg.noise_dim
        self.blocks = [(str(kind), int(size)) for kind, size in layout["blocks"]]
        self.row_dim = int(layout["row_dim"])
        if sum(size for _, size in self.blocks) != self.row_dim:
            raise ConfigError("the table layout's blocks do not add up to its row width")
        cond = layout["condition"]
        sizes = [int(s) for s in cond["sizes"]]
        self.cond_dim = sum(sizes)
        width = cfg.noise_dim + self.cond_dim
        layers: list[nn.Module] = []
        for h in cfg.g_hidden:
            layers.append(Residual(width, h, cfg.g_batch_norm))
            width += h
        self.sequential = cfg.table_heads == "sequential"
        if self.sequential:
            self.net = nn.Sequential(*layers)
            self.heads = nn.ModuleList([nn.Linear(width, size) for _, size in self.blocks])
            earlier = [sum(size for _, size in self.blocks[:k]) for k in range(len(self.blocks))]
            # block k's logits also read the values drawn for blocks 0..k-1
            self.feedback = nn.ModuleList(
                [
                    nn.Linear(e, size, bias=False) if e else nn.Identity()
                    for e, (_, size) in zip(earlier, self.blocks, strict=True)
                ]
            )
        else:
            layers.append(nn.Linear(width, self.row_dim))
            self.net = nn.Sequential(*layers)
        self._register_conditions(cond, sizes)
        # row offset of a condition column's block -> that column's index
        self.cond_block = {int(o): k for k, o in enumerate(cond["row_offsets"])}

    def _register_conditions(self, cond: dict[str, Any], sizes: list[int]) -> None:
        """Buffers of the layout's condition columns (``sizes``: each one's values): offsets,
        the row position of each value, the training and sampling probabilities, and the
        anchor's pair probabilities; ``self.anchor``: the anchor column or ``None``."""
        if sizes:
            offsets = torch.cumsum(torch.tensor([0, *sizes[:-1]]), 0)
            # flat condition index -> the row position of the value it names
            rows = [
                int(o) + k
                for o, s in zip(cond["row_offsets"], sizes, strict=True)
                for k in range(s)
            ]
            self.register_buffer("cond_offsets", offsets, persistent=False)
            self.register_buffer("cond_rows", torch.tensor(rows), persistent=False)
            self.register_buffer("train_probs", _padded(cond["train_probs"]), persistent=False)
            self.register_buffer("sample_probs", _padded(cond["sample_probs"]), persistent=False)
            columns = cond.get("sample_columns") or [1.0] * len(sizes)  # absent: uniform
            self.register_buffer(
                "sample_columns", torch.tensor(columns, dtype=torch.float64), persistent=False
            )
            # flat condition index -> its column and its position in that column
            column = [k for k, s in enumerate(sizes) for _ in range(s)]
            self.register_buffer("cond_column", torch.tensor(column), persistent=False)
            position = [p for s in sizes for p in range(s)]
            self.register_buffer("cond_position", torch.tensor(position), persistent=False)
        anchor = cond.get("anchor")
        self.anchor = None if anchor is None else int(anchor["column"])
        if anchor is not None:
            k = self.anchor
            probs = torch.zeros(len(sizes), max(sizes), sizes[k], dtype=torch.float64)
            for j, m in enumerate(anchor["probs"]):
                probs[j, : sizes[j]] = torch.tensor(m, dtype=torch.float64)
            # (column, position) -> p(anchor position | that value), zero-padded
            self.register_buffer("anchor_probs", probs, persistent=False)

    # -- conditions --------------------------------------------------------------------------
    def _stream(self, z: torch.Tensor) -> torch.Generator | None:
        """Training: torch's global stream (``None``); eval: a generator seeded from ``z``."""
        if self.training:
            return None
        digest = hashlib.blake2b(z.detach().cpu().numpy().tobytes(), digest_size=8).digest()
        return torch.Generator(device=z.device).manual_seed(
            int.from_bytes(digest, "little") % (2**63)
        )

    def draw_conditions(self, n: int, gen: torch.Generator | None, device) -> torch.Tensor:
        """``(n,)`` flat condition indices: a column (uniformly while training; in eval
        mode with the layout's ``sample_columns`` probabilities, see
        :mod:`ganforge.data.table.conditions`), then a value (capped log-frequency while
        training, the data's frequencies in eval mode)."""
        probs = (self.train_probs if self.training else self.sample_probs).to(device)
        if self.training:
            col = torch.randint(len(probs), (n,), generator=gen, device=device)
        else:
            weights = self.sample_columns.to(device)
            col = torch.multinomial(weights, n, replacement=True, generator=gen)
        pos = torch.multinomial(probs[col], 1, generator=gen).squeeze(1)
        return self.cond_offsets.to(device)[col] + pos

    # -- forward -------------------------------------------------------------------------------
    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """``(B, noise_dim), (B,) | None -> (B, row_dim + cond_dim)``."""
        gen = self._stream(z)
        parts = [z]
        cond = z.new_zeros((z.shape[0], 0))
        if self.cond_dim:
            if y is None:
                y = self.draw_conditions(z.shape[0], gen, z.device)
            elif ((y < 0) | (y >= self.cond_dim)).any():
                raise ConfigError(f"condition indices must be in [0, {self.cond_dim - 1}]")
            cond = self.condition_vector(y.long(), gen).to(z.dtype)
            parts.append(cond)
        h = self.net(torch.cat(parts, dim=1))  # (B, row_dim), or the last hidden layer
        out: list[torch.Tensor] = []
        start = 0
        for k, (kind, size) in enumerate(self.blocks):
            if self.sequential:
                logits = self.heads[k](h)
                if out:
                    logits = logits + self.feedback[k](torch.cat(out, dim=1))
            else:
                logits = h[:, start : start + size]
            value = _activate(kind, logits, gen)
            if not self.training and start in self.cond_block:
                value = self._hold(value, cond, self.cond_block[start])
            out.append(value)
            start += size
        return torch.cat([*out, cond], dim=1)

    def condition_vector(self, y: torch.Tensor, gen: torch.Generator | None) -> torch.Tensor:
        """Flat condition indices ``(B,)`` -> condition vectors ``(B, cond_dim)``: the
        index's one-hot, plus, with an anchor column, the anchor's value drawn from
        ``p(anchor | the index's value)`` (the anchor's own values keep themselves)."""
        cond = F.one_hot(y, self.cond_dim)
        if self.anchor is not None:
            probs = self.anchor_probs.to(y.device)[self.cond_column[y], self.cond_position[y]]
            pos = torch.multinomial(probs, 1, generator=gen).squeeze(1)
            anchor = F.one_hot(self.cond_offsets[self.anchor] + pos, self.cond_dim)
            cond = torch.maximum(cond, anchor)
        return cond

    def _hold(self, value: torch.Tensor, cond: torch.Tensor, k: int) -> torch.Tensor:
        """Condition column ``k``'s block ``(B, size)`` with every row conditioned on that
        column set to its condition's one-hot: a sample drawn through a condition holds
        it (the Gumbel draw of the block could otherwise disagree)."""
        offset = int(self.cond_offsets[k])
        block = cond[:, offset : offset + value.shape[1]]
        held = block.sum(1, keepdim=True) > 0
        return torch.where(held, block.to(value.dtype), value)

    def generator_terms(self, fake: torch.Tensor) -> dict[str, torch.Tensor]:
        """CTGAN's condition loss on generated rows ``(B, row_dim + cond_dim)``: mean over
        rows of the mean ``-log p`` of each conditioned value in its column's (soft)
        one-hot."""
        if not self.cond_dim:
            return {}
        cond = fake[:, self.row_dim :]
        p = fake[:, self.cond_rows]  # (B, cond_dim): each condition value's generated share
        nll = -(cond * torch.log(p + 1e-6)).sum(1) / cond.sum(1).clamp(min=1)
        return {"cond": nll.mean()}


def _activate(kind: str, logits: torch.Tensor, gen: torch.Generator | None) -> torch.Tensor:
    """A block's values: ``tanh`` of its logits, or a Gumbel-softmax draw (temperature
    :data:`TAU`, noise from ``gen``)."""
    if kind == "tanh":
        return torch.tanh(logits)
    u = torch.rand(logits.shape, generator=gen, device=logits.device)
    gumbel = -torch.log(-torch.log(u + EPS) + EPS)
    return F.softmax((logits + gumbel) / TAU, dim=1)


def build_table(
    cfg: ModelConfig, shape: tuple[int, ...], layout: dict[str, Any] | None = None
) -> tuple[nn.Module, nn.Module]:
    """``(G, D)`` for a table whose model-space layout is ``layout`` (the dataset's
    ``output_layout``); ``shape`` is D's input ``(pack * (row_dim + cond_dim),)``."""
    if layout is None:
        raise ConfigError(
            f"architecture {cfg.arch!r} models tables: give a .csv dataset (it builds its "
            "output heads from the table's columns)"
        )
    if cfg.conditional != "none":
        raise ConfigError(
            f"architecture {cfg.arch!r} conditions on the table's own columns; "
            "leave --conditional at none"
        )
    return TableGenerator(cfg, layout), MLPDiscriminator(cfg, shape)


build_table.takes_layout = True  # type: ignore[attr-defined]
