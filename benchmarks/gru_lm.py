"""The maximum-likelihood baseline for text GANs: a character-level GRU language model.

A line ``c_1 .. c_T`` is read as ``<bos> c_1 .. c_T`` and trained, with teacher forcing, to
predict ``c_1 .. c_T <eos>`` (cross-entropy, Adam) for a budget of *process CPU seconds*,
so it gets the same compute as a GAN run. Free samples are drawn at temperature 1 from
``<bos>``; prompts are answered greedily (argmax) after reading ``<bos>`` + the prompt.
Lines stop at ``<eos>`` or at the longest training line's length.

    lm = CharGRU(train_lines, seed=0)
    lm.fit(train_lines, seconds=300)
    lm.sample(1000, seed=0)                    # list[str]
    lm.complete(["37+45="])                    # ["37+45=82"], greedy

torch is imported when a model is built, not when this module is imported.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Sequence
from typing import Any

BOS, EOS = 0, 1  # ids of the begin and end tokens; characters start at 2


def _torch():
    import torch

    return torch


class CharGRU:
    """Embedding ``emb`` -> GRU (``layers`` x ``hidden``) -> linear to the vocabulary + end.

    ``lines``: the training lines, which fix the character vocabulary and the maximum
    generated length (the longest line). ``seed`` seeds the weights and the batches."""

    def __init__(
        self,
        lines: Sequence[str],
        hidden: int = 256,
        layers: int = 1,
        emb: int = 32,
        seed: int = 0,
    ) -> None:
        torch = _torch()
        from torch import nn

        self.chars = sorted({c for line in lines for c in line})
        self.index = {c: i + 2 for i, c in enumerate(self.chars)}
        self.max_len = max(len(line) for line in lines)
        self.seed = seed
        torch.manual_seed(seed)
        vocab = len(self.chars) + 2
        self.embed = nn.Embedding(vocab, emb)
        self.gru = nn.GRU(emb, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, vocab)
        self.modules = nn.ModuleList([self.embed, self.gru, self.head])
        self.history: dict[str, Any] = {}

    # -- encoding -------------------------------------------------------------------------
    def _ids(self, line: str) -> list[int]:
        return [self.index[c] for c in line]

    def _batch(self, lines: Sequence[str]) -> tuple[Any, Any]:
        """``(inputs (B, L+1), targets (B, L+1))``; padded targets are -100 (ignored)."""
        torch = _torch()
        width = max(len(line) for line in lines) + 1
        x = torch.full((len(lines), width), EOS, dtype=torch.long)
        y = torch.full((len(lines), width), -100, dtype=torch.long)
        for i, line in enumerate(lines):
            ids = self._ids(line)
            x[i, : len(ids) + 1] = torch.tensor([BOS, *ids])
            y[i, : len(ids) + 1] = torch.tensor([*ids, EOS])
        return x, y

    def _logits(self, x: Any, h: Any = None) -> tuple[Any, Any]:
        out, h = self.gru(self.embed(x), h)
        return self.head(out), h

    # -- training -------------------------------------------------------------------------
    def fit(
        self,
        lines: Sequence[str],
        seconds: float,
        batch_size: int = 128,
        lr: float = 2e-3,
        max_steps: int | None = None,
    ) -> dict[str, Any]:
        """Teacher-forced maximum likelihood until ``seconds`` of process CPU time (or
        ``max_steps``) have passed; returns ``steps``, ``cpu_seconds``, ``wall_seconds``,
        ``loss`` (mean cross-entropy in nats per token over the last 100 steps)."""
        torch = _torch()
        rng = random.Random(self.seed)
        opt = torch.optim.Adam(self.modules.parameters(), lr=lr)
        lines = list(lines)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        steps, recent = 0, []
        self.modules.train()
        while time.process_time() - cpu0 < seconds and (max_steps is None or steps < max_steps):
            x, y = self._batch(rng.sample(lines, min(batch_size, len(lines))))
            logits, _ = self._logits(x)
            loss = torch.nn.functional.cross_entropy(
                logits.reshape(-1, logits.shape[-1]), y.reshape(-1), ignore_index=-100
            )
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            steps += 1
            recent = [*recent[-99:], loss.item()]
        self.history = {
            "steps": steps,
            "cpu_seconds": time.process_time() - cpu0,
            "wall_seconds": time.perf_counter() - wall0,
            "loss": sum(recent) / max(len(recent), 1) if recent else math.nan,
        }
        return self.history

    # -- generation -----------------------------------------------------------------------
    def _decode(self, ids: Sequence[int]) -> str:
        out = []
        for i in ids:
            if i == EOS:
                break
            if i >= 2:
                out.append(self.chars[i - 2])
        return "".join(out)

    def _continue(self, x: Any, steps: int, temperature: float, gen: Any) -> list[list[int]]:
        """Read ``x`` (B, T) and generate ``steps`` more ids per row (greedy when
        ``temperature`` is 0)."""
        torch = _torch()
        logits, h = self._logits(x)
        last = logits[:, -1]
        out: list[list[int]] = [[] for _ in range(len(x))]
        done = torch.zeros(len(x), dtype=torch.bool)
        for _ in range(steps):
            if temperature == 0:
                nxt = last.argmax(-1)
            else:
                probs = torch.softmax(last / temperature, -1)
                nxt = torch.multinomial(probs, 1, generator=gen).squeeze(1)
            nxt = torch.where(done, torch.full_like(nxt, EOS), nxt)
            for row, v in zip(out, nxt.tolist(), strict=True):
                row.append(v)
            done |= nxt == EOS
            if bool(done.all()):
                break
            logits, h = self._logits(nxt[:, None], h)
            last = logits[:, -1]
        return out

    def sample(self, n: int, seed: int = 0, temperature: float = 1.0) -> list[str]:
        """``n`` free lines sampled at ``temperature`` (1: the model's own distribution)."""
        torch = _torch()
        gen = torch.Generator().manual_seed(seed)
        self.modules.eval()
        lines: list[str] = []
        with torch.inference_mode():
            for start in range(0, n, 512):
                b = min(512, n - start)
                x = torch.full((b, 1), BOS, dtype=torch.long)
                lines += [
                    self._decode(r) for r in self._continue(x, self.max_len, temperature, gen)
                ]
        return lines

    def complete(self, prompts: Sequence[str]) -> list[str]:
        """Each prompt followed by its greedy continuation (up to the maximum length);
        characters outside the training vocabulary make the answer empty."""
        torch = _torch()
        self.modules.eval()
        out = list(prompts)
        groups: dict[int, list[int]] = {}
        for i, p in enumerate(prompts):
            if all(c in self.index for c in p):
                groups.setdefault(len(p), []).append(i)
        with torch.inference_mode():
            for length, idx in groups.items():
                x = torch.tensor([[BOS, *self._ids(prompts[i])] for i in idx], dtype=torch.long)
                rows = self._continue(x, max(self.max_len - length, 1), 0.0, None)
                for i, r in zip(idx, rows, strict=True):
                    out[i] = prompts[i] + self._decode(r)
        return out
