"""Synthetic tables: fidelity, privacy and the named dependencies of a procedural table.

Tables:

- ``procedural``: 3,000 rows, 9 columns whose dependencies are known by construction
  (:func:`procedural_rows`): an imbalanced ``segment`` (basic 80%, plus 15%, vip 5%) that
  moves ``spend`` (bimodal for basic: N(20, 3) or N(60, 5); plus N(100, 10); vip
  N(300, 20)); ``city`` -> ``country`` (a deterministic relation); ``visits`` an integer
  >= 1; ``discount`` bounded in [0, 0.5]; ``income`` missing at random (30% for basic,
  5% otherwise); ``age`` missing not at random (half of the ages above 65); ``signup`` a
  date.
- ``penguins``: the ``palmerpenguins`` package's table (344 rows, 8 columns, text and
  missing cells), read from the installed package's CSV (``pip install palmerpenguins``;
  skipped when absent).
- ``diabetes``: scikit-learn's bundled diabetes table (442 rows, unscaled) made
  mixed-type (:func:`diabetes_rows`): ``sex`` as labels, ``age`` an integer, the disease
  progression binned into a categorical ``progression`` (low/mid/high by tertile), the
  efficacy target.

Each run trains ``ganforge train --dataset FILE.csv`` with no other flag but ``--seed``
and ``--threads 1`` (and ``--steps`` when given), samples as many rows as the file has, and reports the
run's own evaluation (fidelity and privacy, each beside the held-out rows' figure) and,
for the procedural table, every named check on the synthetic rows and on a second real
sample of the same construction (what a perfect generator scores)::

    python benchmarks/tabular.py --tables procedural,penguins,diabetes --seeds 0-2 --ctgan --sdmetrics

``--ctgan`` also trains the ``ctgan`` package for the same CPU time and ``--sdmetrics``
scores every file with SDMetrics' quality report beside ganforge's figures (both
benchmark-only packages).
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _sweeps import parse_seeds  # noqa: E402

CITIES = {"Lyon": "FR", "Paris": "FR", "Porto": "PT", "Lisbon": "PT", "Leeds": "UK"}
HEADER = ["segment", "spend", "city", "country", "visits", "discount", "income", "age", "signup"]


def procedural_rows(n: int = 3000, seed: int = 0) -> list[list[str]]:
    """The procedural table's rows as CSV text (see the module docstring)."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        segment = rng.choice(["basic", "plus", "vip"], p=[0.8, 0.15, 0.05])
        if segment == "basic":
            spend = rng.normal(20, 3) if rng.random() < 0.5 else rng.normal(60, 5)
        else:
            spend = rng.normal(100, 10) if segment == "plus" else rng.normal(300, 20)
        city = rng.choice(list(CITIES))
        age = int(np.clip(rng.normal(45, 15), 18, 90))
        income_missing = rng.random() < (0.3 if segment == "basic" else 0.05)
        age_missing = age > 65 and rng.random() < 0.5
        day = int(rng.integers(0, 730))
        rows.append(
            [
                segment,
                f"{max(spend, 1.0):.2f}",
                city,
                CITIES[city],
                str(1 + int(rng.poisson(3))),
                f"{0.5 * rng.beta(2, 5):.2f}",
                "" if income_missing else f"{rng.lognormal(10.5, 0.4):.0f}",
                "" if age_missing else str(age),
                str(np.datetime64("2022-01-01") + np.timedelta64(day, "D")),
            ]
        )
    return rows


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def _read(path: Path) -> dict[str, list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    return {name: [r[j] for r in rows[1:]] for j, name in enumerate(rows[0])}


def _num(cells: list[str]) -> np.ndarray:
    return np.array([float(c) if c else np.nan for c in cells])


def procedural_checks(t: dict[str, list[str]], real: dict[str, list[str]]) -> dict[str, dict]:
    """Each named dependency of the procedural table, measured on ``t`` against ``real``:
    ``{name: {"value", "real", "pass"}}``."""
    out: dict[str, dict] = {}

    def add(name: str, value: float, ref: float, ok: bool) -> None:
        out[name] = {
            "value": round(float(value), 4),
            "real": round(float(ref), 4),
            "pass": bool(ok),
        }

    seg, rseg = np.array(t["segment"]), np.array(real["segment"])
    vip, rvip = (seg == "vip").mean(), (rseg == "vip").mean()
    add("vip frequency within 2 points", vip, rvip, abs(vip - rvip) <= 0.02)
    spend, rspend = _num(t["spend"]), _num(real["spend"])
    for s in ("basic", "plus", "vip"):  # means: basic's median falls between its modes
        m = np.mean(spend[seg == s]) if (seg == s).any() else np.nan
        r = np.mean(rspend[rseg == s])
        add(f"mean spend of {s} within 15%", m, r, bool(abs(m - r) <= 0.15 * r))
    low = (spend[seg == "basic"] < 40).mean() if (seg == "basic").any() else np.nan
    rlow = (rspend[rseg == "basic"] < 40).mean()
    add("basic spend bimodal: share below 40 within 10 points", low, rlow, abs(low - rlow) <= 0.1)
    ok = np.mean([CITIES.get(c) == k for c, k in zip(t["city"], t["country"], strict=True)])
    add("country = f(city) for >= 95% of rows", ok, 1.0, ok >= 0.95)
    visits = _num(t["visits"])
    add(
        "visits are integers >= 1",
        np.mean((visits == np.round(visits)) & (visits >= 1)),
        1,
        bool(np.all((visits == np.round(visits)) & (visits >= 1))),
    )
    disc = _num(t["discount"])
    add(
        "discount within [0, 0.5]",
        np.mean((disc >= 0) & (disc <= 0.5)),
        1,
        bool(np.all((disc >= 0) & (disc <= 0.5))),
    )
    inc, rinc = np.array(t["income"]) == "", np.array(real["income"]) == ""
    gap = inc[seg == "basic"].mean() - inc[seg != "basic"].mean()
    rgap = rinc[rseg == "basic"].mean() - rinc[rseg != "basic"].mean()
    add("income missing at random: basic - others gap within 10 points", gap, rgap,
        abs(gap - rgap) <= 0.1)  # fmt: skip
    age, rage = _num(t["age"]), _num(real["age"])
    miss, rmiss = np.isnan(age).mean(), np.isnan(rage).mean()
    add("age missing rate (not at random) within 3 points", miss, rmiss, abs(miss - rmiss) <= 0.03)
    mean, rmean = np.nanmean(age), np.nanmean(rage)
    add("mean present age within 3 years", mean, rmean, abs(mean - rmean) <= 3)
    return out


def penguins_csv() -> Path | None:
    """The palmerpenguins package's penguins.csv, found without importing the package."""
    spec = importlib.util.find_spec("palmerpenguins")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "penguins.csv"
    return path if path.is_file() else None


def diabetes_rows() -> tuple[list[str], list[list[str]]]:
    """scikit-learn's diabetes table, unscaled, made mixed-type: ``sex`` 1/2 as the labels
    ``sex1``/``sex2``, integer ``age``, the target binned at its tertiles into
    ``progression`` low/mid/high (the file's numbers are written as they come)."""
    from sklearn.datasets import load_diabetes

    d = load_diabetes(scaled=False)
    cuts = np.quantile(d.target, [1 / 3, 2 / 3])
    labels = np.array(["low", "mid", "high"])[np.searchsorted(cuts, d.target, side="right")]
    header = [*d.feature_names, "progression"]
    rows = []
    for x, label in zip(d.data, labels, strict=True):
        cells = [f"{v:g}" for v in x]
        cells[0], cells[1] = str(int(x[0])), f"sex{int(x[1])}"
        rows.append([*cells, str(label)])
    return header, rows


def run_one(
    data: Path, seed: int, steps: int | None, out: Path, overrides: dict | None = None
) -> dict:
    import ganforge
    from ganforge.api import load_generator
    from ganforge.data.table import write_table_csv
    from ganforge.tables import sample_rows

    cpu0, tick = resource.getrusage(resource.RUSAGE_SELF).ru_utime, time.perf_counter()
    cfg = ganforge.TrainConfig(
        dataset=str(data), steps=steps, seed=seed, threads=1, out=str(out / "run"),
        **(overrides or {}),
    )  # fmt: skip
    result = ganforge.train(cfg)
    loaded = load_generator(result.run_dir)
    steps = loaded.config.steps
    n = sum(1 for _ in data.open()) - 1
    synth = out / "synthetic.csv"
    rows = loaded.decoder.rows(sample_rows(loaded, n, seed=seed + 100))
    write_table_csv(synth, loaded.decoder.columns, rows)
    m = result.metrics
    keys = ("fidelity", "column_shapes", "column_pairs", "missing_rate_error", "out_of_range",
            "dcr_closer_to_train", "exact_copies", "nn_distance_ratio")  # fmt: skip
    return {
        "metrics": {k: m.get(k) for k in keys},
        "real_vs_real": {k: m["real_vs_real"].get(k) for k in keys},
        "wall_s": round(time.perf_counter() - tick, 1),
        "cpu_s": round(resource.getrusage(resource.RUSAGE_SELF).ru_utime - cpu0, 1),
        "synthetic": str(synth),
        "steps": steps,
        "loss": loaded.config.loss,
    }


TARGETS = {"procedural": "segment", "penguins": "species", "diabetes": "progression"}


def split_files(data: Path, where: Path) -> tuple[Path, Path]:
    """The training and held-out rows ganforge uses for ``data``, as two CSV files."""
    from ganforge.data.table.dataset import holdout_split

    with data.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    train_idx, held_idx = holdout_split(len(rows) - 1)
    train = _write(where / "train.csv", rows[0], [rows[1 + i] for i in train_idx])
    held = _write(where / "holdout.csv", rows[0], [rows[1 + i] for i in held_idx])
    return train, held


def run_ctgan(train: Path, n: int, seed: int, cpu_budget: float, out: Path) -> dict:
    """The ``ctgan`` package (benchmark only) on the same training rows, for about
    ``cpu_budget`` CPU seconds (epochs from timed 1- and 11-epoch fits). CTGAN takes no missing
    numbers and no dates: missing numbers get the column median, dates become day numbers
    and are written back as dates."""
    import pandas as pd
    import torch
    from ctgan import CTGAN

    from ganforge.data.table import infer_spec, read_csv_table
    from ganforge.data.table.reader import format_datetime, parse_datetime

    specs = infer_spec(read_csv_table(train))
    df = pd.read_csv(train, dtype=str, keep_default_na=False)
    discrete = [s.name for s in specs if s.type in ("categorical", "boolean")]
    for s in specs:
        if s.name in discrete:
            continue
        col = df[s.name].replace({"": None, "NA": None})
        if s.type == "datetime":
            col = col.map(lambda c, f=s.format: None if c is None else parse_datetime(c, f))
        col = pd.to_numeric(col)
        df[s.name] = col.fillna(col.median())
    torch.manual_seed(seed)

    def fit(epochs: int) -> tuple[CTGAN, float]:
        cpu = resource.getrusage(resource.RUSAGE_SELF).ru_utime
        model = CTGAN(epochs=epochs, cuda=False)
        model.fit(df, discrete_columns=discrete)
        return model, resource.getrusage(resource.RUSAGE_SELF).ru_utime - cpu

    # fit() also fits CTGAN's transformer once: an epoch's cost is the difference of a
    # 1- and an 11-epoch fit (a 3-epoch fit's difference was noise-sized on small tables,
    # and once gave a near-zero epoch cost and an unbounded budget)
    _, one = fit(1)
    _, eleven = fit(11)
    per_epoch = max((eleven - one) / 10, 1e-3)
    epochs = max(1, round((cpu_budget - max(one - per_epoch, 0.0)) / per_epoch))
    tick = time.perf_counter()
    model, cpu = fit(epochs)
    wall = time.perf_counter() - tick
    synth = model.sample(n)
    for s in specs:
        if s.type == "datetime":
            synth[s.name] = [format_datetime(v, s.format) for v in synth[s.name]]
        elif s.type == "integer":
            synth[s.name] = synth[s.name].round().astype(int)
        elif s.type == "continuous" and s.decimals is not None:
            synth[s.name] = synth[s.name].round(s.decimals)
    path = out / "ctgan.csv"
    synth.to_csv(path, index=False)
    return {
        "epochs": epochs,
        "cpu_s": round(cpu, 1),
        "wall_s": round(wall, 1),
        "synthetic": str(path),
    }


def compare(train: Path, held: Path, files: dict[str, str], target: str | None) -> dict:
    """Every file evaluated by ganforge's evaluator against the same training and
    held-out rows."""
    from ganforge.evaluation.table import evaluate_table_files

    keys = ("fidelity", "column_shapes", "column_pairs", "ml_efficacy",
            "dcr_closer_to_train", "exact_copies", "nn_distance_ratio", "out_of_range",
            "missing_rate_error")  # fmt: skip
    out = {}
    for name, path in files.items():
        m = evaluate_table_files(train, path, target=target, holdout=held)
        out[name] = {k: m.get(k) for k in keys}
        out["held-out rows"] = {k: m["real_vs_real"].get(k) for k in keys}
    return out


def sdmetrics_scores(train: Path, files: dict[str, str]) -> dict[str, dict]:
    """SDMetrics' (benchmark only) single-table quality report of each file against the
    training rows: ``{name: {"column_shapes", "column_pair_trends"}}`` on 0-100, column
    types from ganforge's inferred spec (categories and booleans categorical, integers and
    numbers numerical, dates datetime; empty cells missing)."""
    import warnings

    import pandas as pd
    from sdmetrics.reports.single_table import QualityReport

    from ganforge.data.table import infer_spec, read_csv_table

    specs = infer_spec(read_csv_table(train))
    meta: dict = {"columns": {}}
    for s in specs:
        if s.type in ("categorical", "boolean"):
            meta["columns"][s.name] = {"sdtype": "categorical"}
        elif s.type == "datetime":
            meta["columns"][s.name] = {"sdtype": "datetime", "datetime_format": s.format}
        else:
            meta["columns"][s.name] = {"sdtype": "numerical"}

    def frame(path: str | Path) -> pd.DataFrame:
        df = pd.read_csv(path, dtype=str, keep_default_na=False).replace({"": None, "NA": None})
        for s in specs:
            if s.type in ("continuous", "integer"):
                df[s.name] = pd.to_numeric(df[s.name])
        return df

    real, out = frame(train), {}
    for name, path in files.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            report = QualityReport()
            report.generate(real, frame(path), meta, verbose=False)
        props = report.get_properties().set_index("Property")["Score"]
        out[name] = {
            "column_shapes": round(100 * float(props["Column Shapes"]), 2),
            "column_pair_trends": round(100 * float(props["Column Pair Trends"]), 2),
        }
    return out


def _with_sdmetrics(res: dict, where: Path) -> None:
    files = {"ganforge": res["synthetic"], "held-out rows": str(where / "holdout.csv")}
    if "ctgan" in res:
        files["ctgan"] = res["ctgan"]["synthetic"]
    res["sdmetrics"] = sdmetrics_scores(where / "train.csv", files)


def rescore(root: Path, sdmetrics: bool = False) -> None:
    """Recompute ganforge's evaluation, the procedural checks (and, with ``sdmetrics``,
    SDMetrics' scores) of saved results from their CSV files (after a change of the
    evaluator; the files are not regenerated)."""
    results = json.loads((root / "results.json").read_text())
    for res in results:
        where = root / f"{res['table']}-seed{res['seed']}"
        files = {"ganforge": res["synthetic"]}
        if "ctgan" in res:
            files["ctgan"] = res["ctgan"]["synthetic"]
        res["compare"] = compare(
            where / "train.csv", where / "holdout.csv", files, TARGETS.get(res["table"])
        )
        if sdmetrics:
            _with_sdmetrics(res, root / f"{res['table']}-seed{res['seed']}")
        if res["table"] != "procedural":
            continue
        where = root / f"procedural-seed{res['seed']}"
        real = _read(where / "procedural.csv")
        res["checks"] = procedural_checks(_read(Path(res["synthetic"])), real)
        res["checks_real_vs_real"] = procedural_checks(_read(where / "second.csv"), real)
        if "ctgan" in res:
            res["checks_ctgan"] = procedural_checks(_read(Path(res["ctgan"]["synthetic"])), real)
    (root / "results.json").write_text(json.dumps(results, indent=1))


def _mean_se(values: list[float]) -> str:
    v = np.array([np.nan if x is None else x for x in values], dtype=float)
    if len(v) == 1:
        return f"{v[0]:.3g}"
    return f"{np.mean(v):.3g} ± {np.std(v, ddof=1) / np.sqrt(len(v)):.2g}"


COLUMNS = (("fidelity", "fidelity"), ("ml_efficacy", "ML efficacy"),
           ("dcr_closer_to_train", "closer to training %"), ("exact_copies", "exact copies"),
           ("nn_distance_ratio", "NN ratio"), ("out_of_range", "out of range"),
           ("missing_rate_error", "missing-rate error"))  # fmt: skip


def summary(root: Path) -> None:
    """Print, per table, the mean ± standard error over seeds of every model's figures
    (Markdown), SDMetrics' scores when present, and the procedural checks."""
    results = json.loads((root / "results.json").read_text())
    for table in dict.fromkeys(r["table"] for r in results):
        runs = [r for r in results if r["table"] == table]
        names = [n for n in ("ganforge", "ctgan", "held-out rows") if n in runs[0]["compare"]]
        sdm = all("sdmetrics" in r for r in runs)
        head = [h for _, h in COLUMNS] + (["SDMetrics shapes", "SDMetrics pair trends"] * sdm)
        print(
            f"\n#### {table}: seeds {[r['seed'] for r in runs]}, {runs[0]['steps']} steps, loss {runs[0].get('loss')}"
        )
        print("| | " + " | ".join([*head, "CPU s (wall s)"]) + " |")
        print("|---" * (len(head) + 2) + "|")
        for name in names:
            cells = [_mean_se([r["compare"][name][k] for r in runs]) for k, _ in COLUMNS]
            if sdm:
                cells += [_mean_se([r["sdmetrics"][name][k] for r in runs])
                          for k in ("column_shapes", "column_pair_trends")]  # fmt: skip
            src = {"ganforge": runs, "ctgan": [r.get("ctgan", {}) for r in runs]}.get(name)
            cost = ""
            if src:
                cost = f"{np.mean([x['cpu_s'] for x in src]):.0f} "
                cost += f"({np.mean([x['wall_s'] for x in src]):.0f})"
                if name == "ctgan":
                    cost += f", {np.mean([x['epochs'] for x in src]):.0f} epochs"
            print(f"| {name} | " + " | ".join([*cells, cost]) + " |")
        if table != "procedural":
            continue
        print("\n| check | ganforge passes | CTGAN passes | real vs real passes | ganforge values "
              "| CTGAN values | real |\n|---|---|---|---|---|---|---|")  # fmt: skip
        for check in runs[0]["checks"]:
            cells = []
            for key in ("checks", "checks_ctgan", "checks_real_vs_real"):
                got = [r[key][check]["pass"] for r in runs if key in r]
                cells.append(f"{sum(got)}/{len(got)}" if got else "")
            for key in ("checks", "checks_ctgan", "checks_real_vs_real"):
                cells.append(", ".join(f"{r[key][check]['value']:.3g}" for r in runs if key in r))
            print(f"| {check} | " + " | ".join(cells[:5] + cells[5:]) + " |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tables", default="procedural,penguins,diabetes")
    p.add_argument("--seeds", default="0")
    p.add_argument("--steps", type=int, default=None, help="default: ganforge's own")
    p.add_argument("--out", default="benchmark-tables")
    p.add_argument("--ctgan", action="store_true", help="also train the ctgan package")
    p.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE",
        help="override a training option (YAML value), e.g. --set ema=0.999",
    )  # fmt: skip
    p.add_argument(
        "--rescore",
        action="store_true",
        help="recompute the evaluation and checks of the files in --out",
    )
    p.add_argument(
        "--sdmetrics", action="store_true",
        help="also score every file with SDMetrics' quality report (benchmark only)",
    )  # fmt: skip
    p.add_argument(
        "--summary", action="store_true", help="print the tables of the results in --out"
    )
    args = p.parse_args()
    if args.rescore:
        rescore(Path(args.out), args.sdmetrics)
    if args.rescore or args.summary:
        return summary(Path(args.out))
    import torch

    torch.set_num_threads(1)
    root = Path(args.out)
    root.mkdir(parents=True, exist_ok=True)
    import yaml

    overrides = {}
    for item in args.set:
        key, _, value = item.partition("=")
        overrides[key.strip()] = yaml.safe_load(value)
    results = []
    for table in args.tables.split(","):
        for seed in parse_seeds(args.seeds):
            where = root / f"{table}-seed{seed}"
            where.mkdir(exist_ok=True)
            if table == "procedural":
                data = _write(where / "procedural.csv", HEADER, procedural_rows(3000, seed))
            elif table == "diabetes":
                data = _write(where / "diabetes.csv", *diabetes_rows())
            else:
                data = penguins_csv()
                if data is None:
                    print("penguins: palmerpenguins is not installed; skipped")
                    break
            res = {"table": table, "seed": seed, "overrides": overrides, **run_one(
                data, seed, args.steps, where, overrides
            )}  # fmt: skip
            train, held = split_files(data, where)
            files = {"ganforge": res["synthetic"]}
            if args.ctgan:
                n = sum(1 for _ in data.open()) - 1
                res["ctgan"] = run_ctgan(train, n, seed, res["cpu_s"], where)
                files["ctgan"] = res["ctgan"]["synthetic"]
            res["compare"] = compare(train, held, files, TARGETS.get(table))
            if table == "procedural":
                real = _read(data)
                second = _read(
                    _write(where / "second.csv", HEADER, procedural_rows(3000, 10**6 + seed))
                )
                res["checks"] = procedural_checks(_read(Path(res["synthetic"])), real)
                if args.ctgan:
                    res["checks_ctgan"] = procedural_checks(_read(Path(files["ctgan"])), real)
                res["checks_real_vs_real"] = procedural_checks(second, real)
            if args.sdmetrics:
                _with_sdmetrics(res, where)
            results.append(res)
            print(json.dumps(res, indent=1))
            (root / "results.json").write_text(json.dumps(results, indent=1))
    summary(root)


if __name__ == "__main__":
    main()
