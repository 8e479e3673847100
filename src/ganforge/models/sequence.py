"""Generators and critics for token sequences ``(B, V, L)`` (one-hot channels first).

A generator writes, per position, a distribution over the ``V`` tokens (each column of
its output ``(B, V, L)`` lies on the probability simplex); a discriminator reads one-hot
real sequences and those relaxed fakes alike.

- ``seqconv`` (Gulrajani et al., 2017, the character-level WGAN-GP language model):
  G: linear ``z -> (C, L)``, ``seq_blocks`` residual blocks of two ``Conv1d(k=5)`` with
  ReLU, a 1x1 ``Conv1d`` to ``V`` and a softmax over ``V``; the critic mirrors it (1x1
  ``Conv1d`` from ``V`` to ``C``, the blocks, linear ``C * L -> 1``).
- ``seqgru``: a GRU generator that writes one token a step from ``h_0 = linear(z)``,
  feeding back its own (relaxed) token. In training each token is a Gumbel-softmax sample
  (Jang et al., 2017) at temperature ``tau``, annealed from ``gumbel_tau`` to
  ``gumbel_tau_end`` over the run (:func:`set_progress`); ``straight_through`` makes the
  forward value the hard one-hot (gradient of the relaxed one). In eval mode it samples
  tokens at ``sample_temperature`` (or greedily) and outputs their one-hot. It also has a
  likelihood, :meth:`GRUGenerator.nll` (teacher forcing), which the objective uses for a
  maximum-likelihood warm start (``mle_steps``) and a term beside the adversarial loss
  (``mle_weight``). Its critic is ``seqconv``'s, ``seq_critic_width`` channels wide.

Prompt conditioning (model option ``conditional: prompt``): ``y`` ``(B, L)`` holds a
prompt's token ids and ``-1`` where G writes (``y=None``: no prompt). G reads the prompt
and its output at the prompt's positions *is* the prompt's one-hot, so it fills only the
rest; the discriminator judges the whole sequence and ignores ``y``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ganforge.config import ModelConfig

KERNEL = 5
RESIDUAL_SCALE = 0.3  # the reference implementation's scale on the residual branch


class ResBlock1d(nn.Module):
    """``x + 0.3 * conv(relu(conv(relu(x))))`` with ``Conv1d(C, C, 5, padding=2)``;
    ``(B, C, L) -> (B, C, L)``."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv1d(width, width, KERNEL, padding=KERNEL // 2)
        self.conv2 = nn.Conv1d(width, width, KERNEL, padding=KERNEL // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + RESIDUAL_SCALE * self.conv2(F.relu(self.conv1(F.relu(x))))


def prompt_channels(y: torch.Tensor | None, batch: int, vocab: int, length: int, device):
    """``(B, V + 1, L)``: the prompt's one-hot and, in channel ``V``, 1 where G writes;
    plus the boolean mask ``(B, 1, L)`` of the prompt's positions."""
    if y is None:
        y = torch.full((batch, length), -1, dtype=torch.long, device=device)
    mask = (y >= 0).unsqueeze(1)  # (B, 1, L)
    onehot = F.one_hot(y.clamp(min=0), vocab).permute(0, 2, 1).float() * mask  # (B, V, L)
    return torch.cat([onehot, (~mask).float()], dim=1), mask


class ConvGenerator(nn.Module):
    """``z (B, noise_dim)[, y (B, L)] -> (B, V, L)`` softmax over ``V`` per position."""

    def __init__(self, cfg: ModelConfig, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.vocab, self.length = shape
        self.noise_dim, width = cfg.noise_dim, cfg.seq_width
        self.prompted = cfg.conditional == "prompt"
        self.fc = nn.Linear(cfg.noise_dim, width * self.length)
        self.prompt = nn.Conv1d(self.vocab + 1, width, 1) if self.prompted else None
        self.blocks = nn.Sequential(*(ResBlock1d(width) for _ in range(cfg.seq_blocks)))
        self.out = nn.Conv1d(width, self.vocab, 1)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = self.fc(z).view(z.shape[0], -1, self.length)  # (B, C, L)
        if self.prompt is None:
            return torch.softmax(self.out(self.blocks(h)), dim=1)
        channels, mask = prompt_channels(y, z.shape[0], self.vocab, self.length, z.device)
        h = h + self.prompt(channels)
        probs = torch.softmax(self.out(self.blocks(h)), dim=1)  # (B, V, L)
        return torch.where(mask, channels[:, : self.vocab], probs)


class ConvCritic(nn.Module):
    """``x (B, V, L) -> (B,)`` logits. ``features``: ``(B, V, L) -> (B, C * L)`` with
    ``C = seq_critic_width or seq_width``; ``head``: linear to one logit."""

    def __init__(self, cfg: ModelConfig, shape: tuple[int, ...]) -> None:
        super().__init__()
        vocab, length = shape
        width = cfg.seq_critic_width or cfg.seq_width
        self.features = nn.Sequential(
            nn.Conv1d(vocab, width, 1),
            *(ResBlock1d(width) for _ in range(cfg.seq_blocks)),
            nn.Flatten(),
        )
        self.head = nn.Linear(width * length, 1)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.features(x)).squeeze(1)


def gumbel_softmax(
    logits: torch.Tensor, tau: float, hard: bool = False, uniform: torch.Tensor | None = None
) -> torch.Tensor:
    """A Gumbel-softmax sample ``softmax((logits + g) / tau)`` over the last dimension,
    ``g = -log(-log(u))`` with ``u ~ U(0, 1)`` (given as ``uniform`` or drawn from torch's
    global generator). ``hard``: the forward value is the one-hot of the argmax, the
    gradient that of the relaxed sample (straight-through)."""
    if uniform is None:
        uniform = torch.rand_like(logits)
    gumbel = -torch.log(-torch.log(uniform.clamp(1e-10, 1.0 - 1e-7)))
    soft = torch.softmax((logits + gumbel) / tau, dim=-1)
    if not hard:
        return soft
    index = soft.argmax(dim=-1, keepdim=True)
    hard_one = torch.zeros_like(soft).scatter_(-1, index, 1.0)
    return hard_one - soft.detach() + soft


class GRUGenerator(nn.Module):
    """``z (B, noise_dim)[, y (B, L)] -> (B, V, L)``: a GRU writing one token a step.

    Training mode: relaxed Gumbel-softmax tokens at temperature :attr:`tau`. Eval mode:
    tokens sampled from ``softmax(logits / sample_temperature)`` (``greedy``: the argmax),
    returned one-hot. Prompt positions are the prompt's tokens, fed back like its own.
    """

    def __init__(self, cfg: ModelConfig, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.vocab, self.length = shape
        self.noise_dim, hidden = cfg.noise_dim, cfg.seq_width
        self.tau_start, self.tau_end = cfg.gumbel_tau, cfg.gumbel_tau_end
        self.tau, self.straight_through = cfg.gumbel_tau, cfg.straight_through
        self.sample_temperature, self.greedy = 1.0, False
        self.h0 = nn.Linear(cfg.noise_dim, hidden)
        self.embed = nn.Linear(self.vocab, hidden, bias=False)  # a relaxed token's embedding
        self.start = nn.Parameter(torch.zeros(hidden))
        self.cell = nn.GRUCell(hidden, hidden)
        self.out = nn.Linear(hidden, self.vocab)

    def set_progress(self, fraction: float) -> None:
        """Anneal ``tau`` geometrically from ``gumbel_tau`` (0) to ``gumbel_tau_end`` (1)."""
        fraction = min(max(float(fraction), 0.0), 1.0)
        self.tau = self.tau_start * (self.tau_end / self.tau_start) ** fraction

    def _token(self, logits: torch.Tensor) -> torch.Tensor:
        if self.training:
            return gumbel_softmax(logits, self.tau, hard=self.straight_through)
        if self.greedy:
            index = logits.argmax(dim=-1)
        else:
            index = torch.multinomial(torch.softmax(logits / self.sample_temperature, -1), 1)
        return F.one_hot(index.view(-1), self.vocab).to(logits.dtype)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        b = z.shape[0]
        h = torch.tanh(self.h0(z))  # (B, H)
        inp = self.start.expand(b, -1)
        tokens = []
        for t in range(self.length):
            h = self.cell(inp, h)
            token = self._token(self.out(h))  # (B, V)
            if y is not None:
                given = y[:, t]
                prompt = F.one_hot(given.clamp(min=0), self.vocab).to(token.dtype)
                token = torch.where((given >= 0)[:, None], prompt, token)
            tokens.append(token)
            inp = self.embed(token)
        return torch.stack(tokens, dim=2)  # (B, V, L)

    def nll(
        self, z: torch.Tensor, real: torch.Tensor, y: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Teacher-forced negative log-likelihood of real lines, in nats per position.

        ``real`` ``(B, V, L)`` one-hot lines (end-token padding included), ``z``
        ``(B, noise_dim)``: from ``h_0 = tanh(h0(z))`` the GRU reads ``start, x_1 ..
        x_{L-1}`` (one fused ``torch.gru`` call over the cell's weights, the same
        recurrence as :meth:`forward`) and is scored by the cross-entropy of
        ``softmax(out(h_t))`` against ``x_t`` for ``t = 1 .. L``, averaged over the batch
        and the ``L`` positions. ``y`` (prompts) is not read: a prompt's tokens are the
        real line's own. Returns a scalar ``>= 0``.
        """
        b = z.shape[0]
        x = real.permute(0, 2, 1)  # (B, L, V)
        start = self.start.expand(b, 1, -1)  # (B, 1, H)
        inputs = torch.cat([start, self.embed(x[:, :-1])], dim=1)  # (B, L, H)
        h = torch.tanh(self.h0(z)).unsqueeze(0)  # (1, B, H)
        c = self.cell
        weights = [c.weight_ih, c.weight_hh, c.bias_ih, c.bias_hh]
        out, _ = torch.gru(inputs, h, weights, True, 1, 0.0, self.training, False, True)
        logits = self.out(out)  # (B, L, V)
        return F.cross_entropy(logits.reshape(-1, self.vocab), x.argmax(-1).reshape(-1))


def _check_shape(shape: tuple[int, ...]) -> None:
    from ganforge.errors import ConfigError

    if len(shape) != 2:
        raise ConfigError(f"sequence models need samples of shape (V, L), got {tuple(shape)}")


def build_seq_conv(cfg: ModelConfig, shape: tuple[int, ...]) -> tuple[nn.Module, nn.Module]:
    _check_shape(shape)
    return ConvGenerator(cfg, shape), ConvCritic(cfg, shape)


def build_seq_gru(cfg: ModelConfig, shape: tuple[int, ...]) -> tuple[nn.Module, nn.Module]:
    _check_shape(shape)
    return GRUGenerator(cfg, shape), ConvCritic(cfg, shape)


# builders whose generators read prompts themselves (``conditional: prompt``)
build_seq_conv.prompts = True  # type: ignore[attr-defined]
build_seq_gru.prompts = True  # type: ignore[attr-defined]
# builders whose generators have a teacher-forced likelihood (``G.nll``: mle_steps, mle_weight)
build_seq_gru.likelihood = True  # type: ignore[attr-defined]
