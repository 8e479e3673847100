"""The content of a report page, gathered from run files; no formatting here.

:func:`run_page` and :func:`comparison_page` return plain dicts that the Jinja2
templates (``templates/*.j2``) render as HTML or Markdown.
"""

from __future__ import annotations

import json
import shlex
from typing import Any

from ganforge.report.figures import curves_picture
from ganforge.report.readings import MetricRow, best_run, fmt, metric_rows, sentence
from ganforge.report.runfiles import RunFiles
from ganforge.report.sections import sample_section

NOT_EVALUATED = "not evaluated: run `ganforge evaluate {run}` or `ganforge report {run} --evaluate`"


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.2f} h"


def _trained_steps(run: RunFiles) -> str:
    target = run.config.get("steps")
    latest = run.checkpoints.get("latest")
    done = latest.step if latest else max((r.get("step", 0) for r in run.history), default=0)
    text = f"{fmt(done)} of {fmt(target)} generator steps" if target else f"{fmt(done)} steps"
    best = run.checkpoints.get("best")
    if best is not None and latest is not None and best.step != latest.step:
        text += f" (best checkpoint: step {fmt(best.step)})"
    return text


def _model(run: RunFiles) -> str:
    model = run.config.get("model") or {}
    preset, arch = str(run.config.get("preset", "?")), str(model.get("arch", "?"))
    parts = [preset] if preset == arch else [preset, arch]
    if model.get("noise_dim"):
        parts.append(f"noise {model['noise_dim']}-d {run.config.get('noise', 'gaussian')}")
    counts = next((c.parameters for c in run.checkpoints.values() if c.parameters), {})
    if counts:
        parts.append(f"G {counts.get('G', 0):,} / D {counts.get('D', 0):,} parameters")
    if run.config.get("self_condition"):
        k = run.config["self_condition"]
        parts.append(f"self-conditioned ({model.get('conditional')}, {k} k-means clusters)")
    elif model.get("conditional") not in (None, "none"):
        parts.append(f"conditional ({model['conditional']}, {model.get('num_classes')} classes)")
    return ", ".join(parts)


def _loss(cfg: dict[str, Any]) -> str:
    parts = [str(cfg.get("loss", "?"))]
    for key, label in (("gp_weight", "GP"), ("r1_weight", "R1"), ("clip_value", "clip")):
        if cfg.get(key):
            parts.append(f"{label} {cfg[key]}")
    if cfg.get("n_critic", 1) != 1:
        parts.append(f"{cfg['n_critic']} D steps per G step")
    ema = cfg.get("ema")
    if ema:
        parts.append(f"EMA {ema}")
    return ", ".join(parts)


def header_rows(run: RunFiles) -> list[tuple[str, str]]:
    """``(label, value)`` lines of a run's header."""
    cfg, info = run.config, run.info or {}
    times = run.total_times()
    if times is None:
        timing = "not recorded (no run.json)"
    else:
        sessions = len(info.get("sessions", []))
        timing = f"wall {_duration(times[0])}, CPU {_duration(times[1])} (training loop"
        timing += f", {sessions} sessions)" if sessions > 1 else ")"
    versions = (
        f"ganforge {info['ganforge']}, torch {info.get('torch', '?')}, "
        f"python {info.get('python', '?')}"
        if "ganforge" in info
        else "not recorded (no run.json)"
    )
    command = info.get("command")
    rows = [
        ("dataset", str(cfg.get("dataset", "?")) + f" ({run.kind})"),
        ("model", _model(run)),
        ("loss", _loss(cfg)),
        (
            "optimizer",
            f"{cfg.get('optimizer', '?')}, lr G {cfg.get('lr_g')} / D "
            f"{cfg.get('lr_d')}, batch {cfg.get('batch_size')}",
        ),
        ("steps", _trained_steps(run)),
        ("training time", timing),
        (
            "device",
            f"{info.get('device', cfg.get('device', '?'))}"
            + (f", {info['threads']} threads" if "threads" in info else ""),
        ),
        ("versions", versions),
        ("seed", str(cfg.get("seed", "?"))),
    ]
    if command:
        rows.append(("command", shlex.join(command)))
    rows.append(
        (
            "reproduce",
            f"ganforge train --config {shlex.quote(str(run.path / 'config.json'))} --out NEW_RUN",
        )
    )
    return rows


def _details(run: RunFiles) -> dict[str, str]:
    protocol = (run.metrics or {}).get("protocol")
    return {
        "config": json.dumps(run.config, indent=2),
        "protocol": json.dumps(protocol, indent=2) if protocol else "",
        "metrics": json.dumps(run.metrics, indent=2) if run.metrics else "",
    }


def _curves(runs: list[RunFiles]) -> tuple[Any, str]:
    """The curves picture (or ``None``) and a note saying why there is none."""
    try:
        picture = curves_picture(runs)
    except Exception as exc:  # noqa: BLE001 - one broken figure never loses the report
        return None, f"the curves could not be drawn ({type(exc).__name__}: {exc})"
    return picture, "" if picture is not None else "no history logged (history.jsonl is empty)"


def run_page(run: RunFiles) -> dict[str, Any]:
    """Everything the single-run templates show."""
    rows: list[MetricRow] = metric_rows(run.metrics)
    return {
        "title": f"ganforge run {run.name}",
        "run": run.name,
        "path": str(run.path),
        "header": header_rows(run),
        "metrics": rows,
        "sentences": [sentence(r) for r in rows],
        "not_evaluated": None if run.metrics else NOT_EVALUATED.format(run=run.path),
        "curves": _curves([run]),
        "section": sample_section(run),
        "details": _details(run),
    }


def _comparison_rows(runs: list[RunFiles]) -> list[dict[str, Any]]:
    per_run = [{r.name: r for r in metric_rows(run.metrics)} for run in runs]
    names: list[str] = []
    for rows in per_run:
        names += [n for n in rows if n not in names]
    out = []
    for name in names:
        cells = [rows.get(name) for rows in per_run]
        higher = next(c.higher_is_better for c in cells if c is not None)
        best = best_run([c.value if c else None for c in cells], higher)
        out.append(
            {
                "name": name,
                "better": "higher" if higher else "lower",
                "cells": [
                    {
                        "value": fmt(c.value) if c else "—",
                        "floor": fmt(c.floor) if c else "",
                        "reading": c.reading if c else "not reported",
                        "best": i == best,
                    }
                    for i, c in enumerate(cells)
                ],
            }
        )
    return out


def comparison_page(runs: list[RunFiles]) -> dict[str, Any]:
    """Everything the comparison templates show: one column per run."""
    names = [r.name for r in runs]
    headers = [dict(header_rows(r)) for r in runs]
    labels = list(dict.fromkeys(k for h in headers for k in h))
    return {
        "title": "ganforge comparison: " + ", ".join(names),
        "runs": names,
        "paths": [str(r.path) for r in runs],
        "header": [(label, [h.get(label, "") for h in headers]) for label in labels],
        "metrics": _comparison_rows(runs),
        "not_evaluated": [n for n, r in zip(names, runs, strict=True) if not r.metrics],
        "curves": _curves(runs),
        "sections": [sample_section(r) for r in runs],
        "details": [_details(r) for r in runs],
    }
