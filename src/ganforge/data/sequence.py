"""Token sequences: a vocabulary, the ``sequence`` data kind and its codec.

Lines of text become token ids ``(N, L)`` (characters by default, whitespace-separated
words as an option) padded with the end token, and one-hot samples ``(N, V, L)``
(channels first, like ``Conv1d``) in model space. A generator writes per position a
distribution over the ``V`` tokens (rows of the probability simplex); :meth:`decode` reads
each position's most probable token and stops at the end token.

Sources: the built-in grammars (``arithmetic``, ``expressions``; see
:mod:`ganforge.data.grammars`) and text files (``--dataset FILE.txt``: UTF-8, one sample a
line, empty lines skipped, lines longer than ``max_len`` tokens dropped with a count).

Prompts: a *prompted* dataset (model option ``conditional: prompt``) hands the trainer,
beside each real line, its prompt as the condition ``y``: ``(B, L)`` token ids at the
prompt's positions and ``-1`` where the generator writes. For a grammar the prompt is the
line up to and including ``=``; for a text file a random prefix. A fraction
:data:`FREE_FRACTION` of each batch has no prompt (all ``-1``), so one run both writes
whole lines and completes prompts.
"""

from __future__ import annotations

import random
import warnings
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F

from ganforge.data.base import Dataset
from ganforge.errors import CheckpointError, DataError

Tokenizer = Literal["char", "word"]
END = "<end>"
#: longest line, in tokens, a text file keeps when ``max_len`` is not given
DEFAULT_MAX_LEN = 64
#: fraction of a prompted batch's rows without a prompt (the generator writes all of it)
FREE_FRACTION = 0.5
#: a text file's lines held out (distinct lines, seeded split) for the real-vs-real floor
HELDOUT_FRACTION = 0.1
MAX_HELDOUT = 2000
SPLIT_SEED = 0


class Vocabulary:
    """Tokens with ids; id 0 is the end token, which also pads a line to ``L``.

    ``tokenizer`` ``"char"`` reads characters, ``"word"`` whitespace-separated words
    (decoded joined by one space).
    """

    def __init__(self, tokens: list[str], tokenizer: Tokenizer = "char") -> None:
        if tokenizer not in ("char", "word"):
            raise DataError(f"tokenizer must be char or word, got {tokenizer!r}")
        if not tokens or tokens[0] != END or len(set(tokens)) != len(tokens):
            raise DataError("a vocabulary starts with the end token and lists each token once")
        self.tokens, self.tokenizer = list(tokens), tokenizer
        self.index = {t: i for i, t in enumerate(self.tokens)}

    @classmethod
    def from_lines(cls, lines: list[str], tokenizer: Tokenizer = "char") -> Vocabulary:
        """The sorted tokens of ``lines`` after the end token."""
        seen = {t for line in lines for t in split(line, tokenizer)}
        return cls([END, *sorted(seen)], tokenizer)

    def __len__(self) -> int:
        return len(self.tokens)

    def split(self, line: str) -> list[str]:
        return split(line, self.tokenizer)

    def ids(self, line: str) -> list[int]:
        """Token ids of one line (DataError naming an unknown token)."""
        out = []
        for t in self.split(line):
            if t not in self.index:
                raise DataError(
                    f"unknown {'character' if self.tokenizer == 'char' else 'word'} "
                    f"{t!r} in {line!r}; the vocabulary has {self.describe()}"
                )
            out.append(self.index[t])
        return out

    def encode(self, lines: list[str], length: int) -> torch.Tensor:
        """``(N, length)`` int64 token ids, padded with the end token (id 0)."""
        out = torch.zeros((len(lines), length), dtype=torch.long)
        for i, line in enumerate(lines):
            ids = self.ids(line)
            if len(ids) > length:
                raise DataError(f"{line!r} has {len(ids)} tokens, more than the maximum {length}")
            out[i, : len(ids)] = torch.tensor(ids, dtype=torch.long)
        return out

    def decode(self, ids: torch.Tensor | np.ndarray) -> list[str]:
        """``(N, L)`` token ids -> lines, each stopping at its first end token."""
        sep = "" if self.tokenizer == "char" else " "
        out = []
        for row in np.asarray(ids).tolist():
            words = []
            for i in row:
                if i == 0:
                    break
                words.append(self.tokens[i])
            out.append(sep.join(words))
        return out

    def describe(self) -> str:
        shown = "".join(self.tokens[1:]) if self.tokenizer == "char" else " ".join(self.tokens[1:])
        return f"{len(self) - 1} tokens: {shown[:80]!r}"


def split(line: str, tokenizer: Tokenizer) -> list[str]:
    return list(line) if tokenizer == "char" else line.split()


def one_hot(ids: torch.Tensor, vocab_size: int) -> torch.Tensor:
    """``(N, L)`` ids -> ``(N, V, L)`` float32 one-hot."""
    return F.one_hot(ids, vocab_size).permute(0, 2, 1).float()


class SequenceDataset(Dataset):
    """Lines of tokens as one-hot ``(V, L)`` samples.

    Attributes: ``vocab``, ``max_len`` (= ``L``, the longest kept line in tokens),
    ``train_lines``, ``heldout_lines`` (disjoint from training; the floor's second real
    sample), ``grammar`` (its name, or ``None``), ``prompted``, ``dropped`` (lines over the
    maximum length left out).
    """

    kind = "sequence"

    def __init__(
        self,
        name: str,
        train_lines: list[str],
        heldout_lines: list[str],
        *,
        tokenizer: Tokenizer = "char",
        grammar: str | None = None,
        prompted: bool = False,
        vocab: Vocabulary | None = None,
        max_len: int | None = None,
    ) -> None:
        self.name, self.grammar, self.prompted = name, grammar, bool(prompted)
        self.train_lines, self.heldout_lines = list(train_lines), list(heldout_lines)
        self.vocab = vocab or Vocabulary.from_lines(
            self.train_lines + self.heldout_lines, tokenizer
        )
        lengths = [len(self.vocab.split(s)) for s in self.train_lines + self.heldout_lines]
        self.max_len = max_len or max(lengths, default=1)
        self.shape = (len(self.vocab), self.max_len)
        self.size = len(self.train_lines)
        self.dropped = 0
        super().__init__()
        self.ids = self.vocab.encode(self.train_lines, self.max_len)  # (N, L)
        self._prompt_len = self._prompt_lengths()

    def _prompt_lengths(self) -> torch.Tensor | None:
        """Per training line, the prompt's length in tokens (grammars: up to ``=``);
        ``None`` for a text file, whose prompts are random prefixes."""
        if self.grammar is None:
            return None
        from ganforge.data.grammars import Grammar

        return torch.tensor([len(Grammar.prompt_of(s)) for s in self.train_lines])

    # -- model space <-> text --------------------------------------------------------------
    def encode(self, lines: list[str]) -> torch.Tensor:  # type: ignore[override]
        """Lines -> ``(N, V, L)`` one-hot float32."""
        return one_hot(self.vocab.encode(list(lines), self.max_len), len(self.vocab))

    def decode(self, x: torch.Tensor) -> list[str]:  # type: ignore[override]
        """``(N, V, L)`` per-position scores or probabilities -> lines (argmax per
        position, stopping at the end token)."""
        return self.vocab.decode(x.detach().to("cpu").argmax(dim=1))

    def codec(self) -> dict[str, Any]:
        return sequence_codec(self)

    def prompts(self, prompts: list[str]) -> torch.Tensor:
        """Prompt strings -> conditions ``(N, L)``: their token ids, then ``-1`` (free)."""
        y = torch.full((len(prompts), self.max_len), -1, dtype=torch.long)
        for i, p in enumerate(prompts):
            ids = self.vocab.ids(p)
            if len(ids) >= self.max_len:
                raise DataError(
                    f"prompt {p!r} has {len(ids)} tokens; prompts must be shorter than the "
                    f"maximum length {self.max_len}"
                )
            y[i, : len(ids)] = torch.tensor(ids, dtype=torch.long)
        return y

    # -- sampling ---------------------------------------------------------------------------
    def sample_batch(
        self, batch_size: int, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        idx = torch.randint(self.size, (batch_size,), generator=generator)
        return self._batch(idx, generator)

    def batch_at(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        gen = torch.Generator().manual_seed(int(idx[0]) if len(idx) else 0)
        return self._batch(idx, gen)

    def _batch(self, idx: torch.Tensor, gen: torch.Generator):
        ids = self.ids[idx]  # (B, L)
        x = one_hot(ids, len(self.vocab))
        return x, (self._conditions(ids, idx, gen) if self.prompted else None)

    def _conditions(self, ids: torch.Tensor, idx: torch.Tensor, gen: torch.Generator):
        """``(B, L)`` prompt conditions of real lines ``ids``: the prompt's ids, ``-1``
        after it; rows drawn free (probability :data:`FREE_FRACTION`) are all ``-1``."""
        b, length = ids.shape
        if self._prompt_len is not None:
            n = self._prompt_len[idx]
        else:  # a random prefix of 1 .. len - 1 tokens (0 for a one-token line)
            lens = (ids != 0).sum(dim=1)
            u = torch.rand(b, generator=gen)
            n = (u * (lens - 1).clamp(min=0)).long() + (lens > 1).long()
        free = torch.rand(b, generator=gen) < FREE_FRACTION
        n = torch.where(free, torch.zeros_like(n), n)
        keep = torch.arange(length)[None, :] < n[:, None]
        return torch.where(keep, ids, torch.full_like(ids, -1))

    def draw_conditions(
        self, n: int, num_classes: int, generator: torch.Generator, device: Any
    ) -> torch.Tensor | None:
        """Conditions for ``n`` generated samples: the prompts of random training lines."""
        if not self.prompted:
            return None
        idx = torch.randint(self.size, (n,), generator=generator, device=device).cpu()
        return self._conditions(self.ids[idx], idx, _cpu_twin(generator)).to(device)

    def sample_real(self, n: int, seed: int) -> list[str]:  # type: ignore[override]
        """``n`` training lines drawn with ``seed`` (without replacement when ``n`` allows)."""
        rng = np.random.default_rng(seed)
        replace = n > self.size
        idx = rng.choice(self.size, size=n, replace=replace)
        return [self.train_lines[i] for i in idx]


def _cpu_twin(generator: torch.Generator) -> torch.Generator:
    """The generator itself on CPU; a CPU generator seeded from a CUDA one's draw."""
    if generator.device.type == "cpu":
        return generator
    seed = int(torch.randint(2**62, (1,), generator=generator, device=generator.device))
    return torch.Generator().manual_seed(seed)


# -- codec -----------------------------------------------------------------------------------
def sequence_codec(data: SequenceDataset) -> dict[str, Any]:
    return {
        "name": data.name,
        "kind": "sequence",
        "shape": list(data.shape),
        "tokens": list(data.vocab.tokens),
        "tokenizer": data.vocab.tokenizer,
        "max_len": data.max_len,
        "grammar": data.grammar,
        "prompted": data.prompted,
    }


class SequenceDecoder(SequenceDataset):
    """A sequence dataset rebuilt from a checkpoint's codec: it decodes samples and
    encodes prompts but holds no lines."""

    def __init__(self, codec: dict[str, Any]) -> None:
        try:
            vocab = Vocabulary(list(codec["tokens"]), codec.get("tokenizer", "char"))
            max_len = int(codec["max_len"])
            super().__init__(
                codec["name"],
                [],
                [],
                grammar=codec.get("grammar"),
                prompted=bool(codec.get("prompted", False)),
                vocab=vocab,
                max_len=max_len,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(f"invalid sequence codec in the checkpoint: {exc}") from None
        if list(codec.get("shape", self.shape)) != list(self.shape):
            raise CheckpointError(f"sequence codec shape {codec['shape']} != {list(self.shape)}")


# -- sources ----------------------------------------------------------------------------------
def grammar_dataset(name: str, cfg: Any = None) -> SequenceDataset:
    """The built-in corpus ``name`` (``arithmetic``, ``expressions``), character tokens."""
    from ganforge.data.grammars import CORPORA

    train, held = CORPORA[name](0)
    return SequenceDataset(name, train, held, grammar=name, prompted=_prompted(cfg))


def _prompted(cfg: Any) -> bool:
    model = getattr(cfg, "model", None)
    conditional = (
        model.get("conditional") if isinstance(model, dict) else getattr(model, "conditional", None)
    )
    return conditional == "prompt"


def read_text_lines(path: str | Path) -> list[str]:
    """The non-empty lines of a UTF-8 text file (DataError for a missing, binary or
    non-UTF-8 file, or one without a non-empty line)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"text file {str(path)!r} does not exist")
    raw = path.read_bytes()
    if b"\x00" in raw:
        raise DataError(f"{path}: a binary file (NUL bytes), not one line of text per sample")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path}: not UTF-8 text (byte {exc.start}: {raw[exc.start]:#04x})"
        ) from None
    lines = [line.rstrip("\r") for line in text.split("\n")]
    lines = [line for line in lines if line.strip()]
    if not lines:
        raise DataError(f"{path}: the file has no non-empty lines")
    return lines


def text_dataset(path: str, cfg: Any = None) -> SequenceDataset:
    """One sample per line of a UTF-8 file; lines longer than ``max_len`` tokens
    (default :data:`DEFAULT_MAX_LEN`) are dropped and counted (a warning); a seeded
    :data:`HELDOUT_FRACTION` of the distinct lines (at most :data:`MAX_HELDOUT`) is held
    out. A file of fewer than 20 distinct lines holds none out: the floor then compares
    training lines with themselves."""
    tokenizer = getattr(cfg, "tokenizer", None) or "char"
    limit = getattr(cfg, "max_len", None) or DEFAULT_MAX_LEN
    lines = read_text_lines(path)
    kept = [s for s in lines if len(split(s, tokenizer)) <= limit]
    dropped = len(lines) - len(kept)
    if not kept:
        raise DataError(
            f"{path}: all {len(lines)} lines are longer than the maximum length {limit} "
            f"tokens ({tokenizer}); raise --max-len"
        )
    if dropped:
        warnings.warn(
            f"{path}: dropped {dropped} of {len(lines)} lines longer than {limit} tokens",
            UserWarning,
            stacklevel=2,
        )
    distinct = sorted(set(kept))
    random.Random(SPLIT_SEED).shuffle(distinct)
    n_held = min(MAX_HELDOUT, int(len(distinct) * HELDOUT_FRACTION)) if len(distinct) >= 20 else 0
    held = set(distinct[:n_held])
    train = [s for s in kept if s not in held]
    heldout = [s for s in kept if s in held] or list(train)
    data = SequenceDataset(
        Path(path).name, train, heldout, tokenizer=tokenizer, prompted=_prompted(cfg)
    )
    data.dropped = dropped
    return data
