"""Procedural, seeded text corpora and the grammars that check them (pure Python).

Two built-in grammars, each a set of equations ``<left side>=<integer>``:

- ``arithmetic``: ``a<op>b=c`` with operands 0-99 (decimal, no leading zeros) and ``op``
  one of ``+ - *``, e.g. ``37+45=82``, ``12-30=-18``.
- ``expressions``: nested infix expressions over the digits 0-9 with ``+ - *`` (usual
  precedence, ``*`` before ``+``/``-``, left-associative) and parentheses nested at most
  :data:`MAX_NESTING` deep, e.g. ``(3+4)*2=14``.

A string is *valid* when it parses (exactly one ``=``, a left side under the grammar, an
integer on the right with no leading zeros and no ``-0``) and *correct* when it is valid and
the equation holds. The corpora hold a training list and a held-out list that share no
left side: for ``arithmetic`` the held-out operand pairs ``(a, b)`` never appear in
training under any operator, so held-out prompts test generalisation.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass

from ganforge.errors import DataError

#: deepest parenthesis nesting the ``expressions`` grammar accepts (and generates)
MAX_NESTING = 3
#: tree depth (operators on the longest root-to-leaf path) of generated expressions
MAX_DEPTH = 3
#: most numbers in one generated expression (keeps lines short: <= 23 characters)
MAX_LEAVES = 5
#: fraction of the 100 x 100 operand pairs held out of the arithmetic training corpus
ARITHMETIC_HELDOUT = 0.1
EXPRESSIONS_TRAIN = 20_000
EXPRESSIONS_HELDOUT = 2_000

_INTEGER = re.compile(r"-?(0|[1-9][0-9]*)")
_OPERAND = r"(0|[1-9][0-9]?)"
_ARITH_LEFT = re.compile(_OPERAND + r"([-+*])" + _OPERAND)


def _apply(op: str, a: int, b: int) -> int:
    return a + b if op == "+" else a - b if op == "-" else a * b


@dataclass(frozen=True)
class Grammar:
    """A grammar of equations ``<left>=<integer>``.

    ``evaluate(left)`` returns the integer value of a left side, or ``None`` when the left
    side does not parse under the grammar.
    """

    name: str
    evaluate: Callable[[str], int | None]

    def is_valid(self, s: str) -> bool:
        """True when ``s`` parses: one ``=``, a left side under the grammar, an integer."""
        left, eq, right = s.partition("=")
        if not eq or not _INTEGER.fullmatch(right) or right == "-0":
            return False
        return self.evaluate(left) is not None

    def is_correct(self, s: str) -> bool:
        """True when ``s`` is valid and the equation holds."""
        if not self.is_valid(s):
            return False
        left, _, right = s.partition("=")
        return self.evaluate(left) == int(right)

    @staticmethod
    def prompt_of(s: str) -> str:
        """The prefix of ``s`` up to and including its first ``=`` (all of ``s`` without one)."""
        i = s.find("=")
        return s if i < 0 else s[: i + 1]

    @staticmethod
    def answer_of(s: str) -> str:
        """The part of ``s`` after its first ``=`` (empty without one)."""
        i = s.find("=")
        return "" if i < 0 else s[i + 1 :]

    def answer(self, prompt: str) -> str:
        """The true answer for a prompt like ``"37+45="`` (DataError if it does not parse)."""
        left = prompt[:-1] if prompt.endswith("=") else prompt
        value = self.evaluate(left)
        if value is None:
            raise DataError(f"prompt {prompt!r} is not a left side of the {self.name} grammar")
        return str(value)


# -- arithmetic ---------------------------------------------------------------------------
def _arithmetic_value(left: str) -> int | None:
    m = _ARITH_LEFT.fullmatch(left)
    if m is None:
        return None
    return _apply(m.group(2), int(m.group(1)), int(m.group(3)))


def arithmetic_corpus(seed: int = 0) -> tuple[list[str], list[str]]:
    """``(train, heldout)`` lines ``a<op>b=c`` for every operand pair 0-99 and ``+ - *``.

    A seeded :data:`ARITHMETIC_HELDOUT` fraction of the 10,000 pairs ``(a, b)`` is held
    out under all three operators (3,000 lines); training holds the other 27,000 lines.
    Both lists are shuffled with ``seed``; the same seed gives the same lists.
    """
    rng = random.Random(seed)
    pairs = [(a, b) for a in range(100) for b in range(100)]
    rng.shuffle(pairs)
    cut = int(round(len(pairs) * ARITHMETIC_HELDOUT))
    held, train = pairs[:cut], pairs[cut:]

    def lines(ps: list[tuple[int, int]]) -> list[str]:
        out = [f"{a}{op}{b}={_apply(op, a, b)}" for a, b in ps for op in "+-*"]
        rng.shuffle(out)
        return out

    return lines(train), lines(held)


# -- expressions --------------------------------------------------------------------------
_PREC = {"+": 1, "-": 1, "*": 2}


class _Parser:
    """Recursive descent: expr := term (('+'|'-') term)*; term := atom ('*' atom)*;
    atom := digit | '(' expr ')' with nesting <= MAX_NESTING."""

    def __init__(self, s: str) -> None:
        self.s, self.i = s, 0

    def peek(self) -> str:
        return self.s[self.i] if self.i < len(self.s) else ""

    def expr(self, depth: int) -> int | None:
        value = self.term(depth)
        while value is not None and self.peek() in ("+", "-") and self.peek():
            op = self.peek()
            self.i += 1
            right = self.term(depth)
            value = None if right is None else _apply(op, value, right)
        return value

    def term(self, depth: int) -> int | None:
        value = self.atom(depth)
        while value is not None and self.peek() == "*":
            self.i += 1
            right = self.atom(depth)
            value = None if right is None else value * right
        return value

    def atom(self, depth: int) -> int | None:
        c = self.peek()
        if c.isdigit() and c.isascii():
            self.i += 1
            return int(c)
        if c == "(" and depth < MAX_NESTING:
            self.i += 1
            value = self.expr(depth + 1)
            if value is None or self.peek() != ")":
                return None
            self.i += 1
            return value
        return None


def _expression_value(left: str) -> int | None:
    parser = _Parser(left)
    value = parser.expr(0)
    return value if value is not None and parser.i == len(left) else None


def _random_tree(rng: random.Random, depth: int, leaves: int) -> tuple:
    """A random expression tree: an int leaf or ``(op, left, right)``, at most ``depth``
    operator levels and ``leaves`` numbers."""
    if depth == 0 or leaves < 2 or rng.random() < 0.3 * (MAX_DEPTH - depth + 1) / MAX_DEPTH:
        return rng.randint(0, 9)
    left_leaves = rng.randint(1, leaves - 1)
    left = _random_tree(rng, depth - 1, left_leaves)
    right = _random_tree(rng, depth - 1, leaves - _count(left))
    return (rng.choice("+-*"), left, right)


def _count(tree) -> int:
    return 1 if isinstance(tree, int) else _count(tree[1]) + _count(tree[2])


def _render(tree, rng: random.Random) -> str:
    """Infix text; a child operator is parenthesised when precedence or the left-to-right
    reading needs it, and otherwise with probability 1/4 (redundant parentheses)."""
    if isinstance(tree, int):
        return str(tree)
    op, left, right = tree
    parts = []
    for child, is_right in ((left, False), (right, True)):
        text = _render(child, rng)
        if not isinstance(child, int):
            p, cp = _PREC[op], _PREC[child[0]]
            needed = cp < p or (is_right and cp == p and op != "+" and not (op == child[0] == "*"))
            if needed or rng.random() < 0.25:
                text = f"({text})"
        parts.append(text)
    return parts[0] + op + parts[1]


def expressions_corpus(seed: int = 0) -> tuple[list[str], list[str]]:
    """``(train, heldout)``: :data:`EXPRESSIONS_TRAIN` and :data:`EXPRESSIONS_HELDOUT`
    distinct random expressions with their value, e.g. ``(3+4)*2=14``; no left side is in
    both lists. Seeded: the same seed gives the same lists."""
    rng = random.Random(seed)
    seen: set[str] = set()
    lines: list[str] = []
    total = EXPRESSIONS_TRAIN + EXPRESSIONS_HELDOUT
    while len(lines) < total:
        left = _render(_random_tree(rng, MAX_DEPTH, MAX_LEAVES), rng)
        if left in seen or not any(op in left for op in "+-*"):
            continue
        value = _expression_value(left)
        assert value is not None, left
        seen.add(left)
        lines.append(f"{left}={value}")
    return lines[:EXPRESSIONS_TRAIN], lines[EXPRESSIONS_TRAIN:]


_GRAMMARS = {
    "arithmetic": Grammar("arithmetic", _arithmetic_value),
    "expressions": Grammar("expressions", _expression_value),
}
CORPORA: dict[str, Callable[[int], tuple[list[str], list[str]]]] = {
    "arithmetic": arithmetic_corpus,
    "expressions": expressions_corpus,
}


def get_grammar(name: str) -> Grammar:
    """The grammar named ``name`` (``"arithmetic"`` or ``"expressions"``)."""
    try:
        return _GRAMMARS[name]
    except KeyError:
        raise DataError(
            f"unknown grammar {name!r}; choose one of: {', '.join(_GRAMMARS)}"
        ) from None


def list_grammars() -> list[str]:
    return list(_GRAMMARS)
