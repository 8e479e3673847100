"""The name -> object registries behind every CLI choice and error message."""

from __future__ import annotations

import pytest

from ganforge.data import DATASETS, DatasetInfo, register_dataset
from ganforge.evaluation import METRIC_DIRECTIONS, list_metrics, register_metric
from ganforge.losses import LOSSES, Loss, bce_d_loss, nonsaturating_g_loss, register_loss
from ganforge.models import MODELS, PRESETS
from ganforge.registry import Registry


def test_register_get_and_list_sorted() -> None:
    r: Registry[int] = Registry("number", int)
    assert r.register("two", 2) == 2
    r.register("one", 1)
    assert r.get("two") == 2
    assert r.names() == ["one", "two"] and list(r) == ["one", "two"]
    assert "one" in r and "three" not in r and len(r) == 2


def test_duplicates_are_rejected_unless_overwriting() -> None:
    r: Registry[int] = Registry("number", int)
    r.register("one", 1)
    with pytest.raises(ValueError, match="number 'one' is already registered"):
        r.register("one", 11)
    assert r.get("one") == 1
    r.register("one", 11, overwrite=True)
    assert r.get("one") == 11


def test_wrong_types_are_rejected() -> None:
    r: Registry[int] = Registry("number", int)
    with pytest.raises(TypeError, match="number 'x' must be a int, got str"):
        r.register("x", "1")
    either: Registry[object] = Registry("thing", (int, str))
    either.register("a", 1)
    either.register("b", "b")
    with pytest.raises(TypeError, match="int or str"):
        either.register("c", 1.5)


@pytest.mark.parametrize("bad", ["", " x", "x ", "Upper", "two words", None, 3])
def test_names_must_be_lowercase_words(bad) -> None:
    with pytest.raises(ValueError, match="number"):
        Registry("number", int).register(bad, 1)


def test_unknown_names_list_the_valid_ones() -> None:
    r: Registry[int] = Registry("colour")
    r.register("red", 1)
    r.register("blue", 2)
    with pytest.raises(ValueError, match=r"^unknown colour 'green'; choose one of: blue, red$"):
        r.get("green")
    with pytest.raises(ValueError, match="unknown colour"):
        r.get(["unhashable"])


def test_decorator_registers() -> None:
    r: Registry[object] = Registry("function")

    @r.decorator("f")
    def f() -> int:
        return 1

    assert r.get("f") is f


# -- the built-in registries ----------------------------------------------------------------


def test_builtin_registries_are_complete() -> None:
    assert LOSSES.names() == [
        "hinge",
        "least-squares",
        "minimax",
        "nonsaturating",
        "wasserstein",
        "wgan-gp",
    ]
    assert {"gaussian1d", "gaussian2d", "disk", "ring8", "grid25"} <= set(DATASETS.names())
    assert "mlp" in MODELS
    assert {"toy1d", "mlp1d", "mlp2d", "toy2d", "mlp-mnist", "mlp-tabular"} <= set(PRESETS)
    assert {"modes_covered", "hq_fraction", "reverse_kl", "w1", "mmd", "ks_max"} <= set(
        list_metrics()
    )
    assert METRIC_DIRECTIONS.get("modes_covered") is True
    assert METRIC_DIRECTIONS.get("w1") is False


def test_builtin_registries_reject_duplicates_and_wrong_types() -> None:
    with pytest.raises(ValueError, match="already registered"):
        register_loss(Loss("nonsaturating", bce_d_loss, nonsaturating_g_loss))
    with pytest.raises(TypeError, match="must be a Loss"):
        LOSSES.register("fake-loss", object())
    with pytest.raises(ValueError, match="already registered"):
        register_dataset(DatasetInfo("ring8", lambda c: None, "", "toy2d"))
    with pytest.raises(TypeError, match="DatasetInfo"):
        DATASETS.register("fake-data", object())
    with pytest.raises(ValueError, match="already registered"):
        register_metric("w1", False)
    with pytest.raises(TypeError, match="bool"):
        METRIC_DIRECTIONS.register("fake-metric", "yes")
