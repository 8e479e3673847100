"""Grammars and procedural corpora: hand-made valid/invalid strings, disjoint held-out sets,
seeded reproducibility."""

import pytest

from ganforge.data.grammars import (
    arithmetic_corpus,
    expressions_corpus,
    get_grammar,
    list_grammars,
)
from ganforge.errors import DataError

ARITH = get_grammar("arithmetic")
EXPR = get_grammar("expressions")


@pytest.mark.parametrize(
    "s, valid, correct",
    [
        ("37+45=82", True, True),
        ("12-30=-18", True, True),
        ("99*99=9801", True, True),
        ("0*0=0", True, True),
        ("0-0=0", True, True),
        ("37+45=83", True, False),
        ("12-30=18", True, False),
        ("7*8=-56", True, False),
        ("37+45=082", False, False),  # leading zero in the answer
        ("07+45=52", False, False),  # leading zero in an operand
        ("100+1=101", False, False),  # operand out of range
        ("0-0=-0", False, False),  # negative zero
        ("37+45=", False, False),  # no answer
        ("37+=82", False, False),
        ("+45=45", False, False),
        ("37++45=82", False, False),
        ("37+45==82", False, False),
        ("37+45", False, False),
        ("-3+4=1", False, False),  # negative operand
        ("3/4=0", False, False),  # unknown operator
        ("3+4=7 ", False, False),
        ("", False, False),
        ("3+4=7=7", False, False),
        ("٣+4=7", False, False),  # non-ASCII digit
    ],
)
def test_arithmetic_validator(s, valid, correct):
    assert ARITH.is_valid(s) is valid
    assert ARITH.is_correct(s) is correct


@pytest.mark.parametrize(
    "s, valid, correct",
    [
        ("(3+4)*2=14", True, True),
        ("3+4*2=11", True, True),  # precedence
        ("8-3-2=3", True, True),  # left associative
        ("8-(3-2)=7", True, True),
        ("((1+2))*3=9", True, True),  # redundant parentheses are fine
        ("(((1)))=1", True, True),  # three levels: the maximum
        ("((((1))))=1", False, False),  # four levels
        ("2*(3-9)=-12", True, True),
        ("2*(3-9)=12", True, False),
        ("(3+4*2=11", False, False),  # unbalanced
        ("3+4)*2=14", False, False),
        ("()=0", False, False),
        ("3(4)=12", False, False),  # no operator between operands
        ("(3)(4)=12", False, False),
        ("34+1=35", False, False),  # numbers are single digits
        ("3+*4=7", False, False),
        ("3+=3", False, False),
        ("(3+4)*2", False, False),
        ("(3+4)*2=014", False, False),
    ],
)
def test_expressions_validator(s, valid, correct):
    assert EXPR.is_valid(s) is valid
    assert EXPR.is_correct(s) is correct


def test_prompts_and_answers():
    assert ARITH.prompt_of("37+45=82") == "37+45="
    assert ARITH.answer_of("37+45=82") == "82"
    assert ARITH.answer_of("12-30=-18") == "-18"
    assert ARITH.answer("37+45=") == "82"
    assert ARITH.answer("12-30=") == "-18"
    assert EXPR.answer("(3+4)*2=") == "14"
    assert ARITH.prompt_of("3+4") == "3+4" and ARITH.answer_of("3+4") == ""
    with pytest.raises(DataError, match="3/4="):
        ARITH.answer("3/4=")


def test_unknown_grammar_names_it():
    assert list_grammars() == ["arithmetic", "expressions"]
    with pytest.raises(DataError, match="'roman'"):
        get_grammar("roman")


def test_arithmetic_corpus_is_complete_disjoint_and_seeded():
    train, held = arithmetic_corpus(0)
    assert len(train) == 27_000 and len(held) == 3_000
    everything = {f"{a}{op}{b}" for a in range(100) for b in range(100) for op in "+-*"}
    lefts_train = {s.split("=")[0] for s in train}
    lefts_held = {s.split("=")[0] for s in held}
    assert lefts_train | lefts_held == everything
    assert all(ARITH.is_correct(s) for s in train + held)

    def pairs(lines):
        out = set()
        for s in lines:
            left = s.split("=")[0]
            for op in "+-*":
                if op in left[1:]:
                    i = left.index(op, 1)
                    out.add((left[:i], left[i + 1 :]))
        return out

    held_pairs = pairs(held)
    assert len(held_pairs) == 1_000
    assert not held_pairs & pairs(train)  # no operand pair is seen in training
    assert arithmetic_corpus(0) == (train, held)
    assert arithmetic_corpus(1) != (train, held)


def test_expressions_corpus_is_valid_disjoint_and_seeded():
    train, held = expressions_corpus(0)
    assert len(train) == 20_000 and len(held) == 2_000
    assert all(EXPR.is_correct(s) for s in train + held)
    lefts = [s.split("=")[0] for s in train + held]
    assert len(set(lefts)) == len(lefts)  # distinct, so held-out never meets training
    assert max(map(len, train + held)) <= 23
    assert sum("(" in s for s in train) > len(train) // 4  # parentheses are common
    assert expressions_corpus(0) == (train, held)
    assert expressions_corpus(2)[0][:50] != train[:50]
