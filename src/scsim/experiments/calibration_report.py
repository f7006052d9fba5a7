"""The calibration report (``calibration.html``, PNG copies under ``plots/``): every target against
the value achieved by the best trial (replicate spread and tolerance drawn), the optimisation
history, and which parameters mattered (Optuna's fANOVA importances)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go

from scsim.experiments.calibrated import complete_trials
from scsim.experiments.report import write_page
from scsim.experiments.targets import Problem
from scsim.report.html import Embedder, esc, fmt, grid, section, table


def _targets_figure(problem: Problem, achieved: dict, spread: dict) -> go.Figure:
    names = list(problem.targets)
    labels = [problem.targets[k].label or k for k in names]
    off = [(achieved[k] - t.value) / t.tolerance for k, t in problem.targets.items()]
    err = [spread[k] / t.tolerance for k, t in problem.targets.items()]
    reach = max([2.0, *(abs(x) + 1 for x in off)])
    fig = go.Figure()
    for row, t in enumerate(problem.targets.values()):  # a bound's allowed side is all green
        x0, x1 = {"equal": (-1, 1), "at_most": (-reach, 1), "at_least": (-1, reach)}[t.bound]
        fig.add_shape(type="rect", x0=x0, x1=x1, y0=row - 0.5, y1=row + 0.5,
                      fillcolor="rgba(0,150,0,0.12)", line={"width": 0})  # fmt: skip
    labels = [f"{label} ({t.relation.strip()} published)" if t.relation else label
              for label, t in zip(labels, problem.targets.values(), strict=True)]  # fmt: skip
    fig.add_trace(go.Scatter(x=off, y=labels, mode="markers", marker={"size": 10},
                             error_x={"type": "data", "array": err}, name="achieved"))  # fmt: skip
    fig.update_layout(
        title="Achieved minus published, in tolerances (green: within; bars: replicate sd)",
        xaxis_title="(achieved - published) / tolerance", height=120 + 40 * len(names),
    )  # fmt: skip
    return fig


def _history_figure(study: Any) -> go.Figure:
    done = sorted(complete_trials(study), key=lambda t: t.number)
    x = [t.number for t in done]
    y = np.array([t.value for t in done])
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x, y=y, mode="markers", name="trial loss"))
    fig.add_trace(go.Scatter(x=x, y=np.minimum.accumulate(y), mode="lines", name="best so far"))
    fig.add_trace(go.Scatter(x=[x[0], x[-1]], y=[1, 1], mode="lines", line={"dash": "dot"},
                             name="1: the targets within tolerance on average"))  # fmt: skip
    fig.update_layout(title="Optimisation history", xaxis_title="trial", yaxis_title="loss",
                      yaxis_type="log", height=420)  # fmt: skip
    return fig


def _importances(study: Any) -> dict[str, float] | None:
    import optuna

    if len(complete_trials(study)) < 4:
        return None
    try:
        return optuna.importance.get_param_importances(study, evaluator=None)
    except (RuntimeError, ValueError):  # too few distinct trials to fit the forest
        return None


def render(
    problem: Problem, study: Any, out: Path, calibrated: Path, png: bool = True
) -> tuple[Path, str | None]:
    """Write ``calibration.html`` (and its PNGs); return its path and why PNGs were skipped."""
    best = study.best_trial
    achieved, spread = best.user_attrs["achieved"], best.user_attrs["spread"]
    embed = Embedder()
    within = sum(t.within(achieved[k]) for k, t in problem.targets.items())
    parts = [
        f"<h1>Calibration: {esc(problem.name)}</h1>",
        f'<p class="description">{esc(problem.file.description)}</p>',
        table([
            ("calibrated scenario", esc(calibrated.name)),
            ("citizens, days", f"{fmt(problem.base.population.n)}, {fmt(problem.base.days)}"),
            ("trials complete", fmt(len(complete_trials(study)))),
            ("best trial, loss", f"{best.number}, {fmt(best.value)}"),
            ("targets within tolerance", f"{within} of {len(problem.targets)}"),
        ]),
    ]  # fmt: skip
    rows = [
        [esc(t.label or k), esc(t.relation) + fmt(t.value),
         f"{fmt(achieved[k])} ± {fmt(spread[k])}", fmt(t.tolerance),
         "yes" if t.within(achieved[k]) else "no",
         fmt(t.day), esc(t.source), esc(t.why)]
        for k, t in problem.targets.items()
    ]  # fmt: skip
    header = ["target", "published", "achieved (mean ± sd)", "tolerance", "within",
              "day", "source", "why this tolerance"]  # fmt: skip
    body = grid(header, rows) + embed(_targets_figure(problem, achieved, spread), "targets")
    parts.append(section("targets", "Targets", body))
    fitted = [[esc(v.name), esc(v.path), f"{fmt(v.spec.low)} to {fmt(v.spec.high)}",
               fmt(best.params[v.name])] for v in problem.varied]  # fmt: skip
    parts.append(section("parameters", "Fitted parameters",
                         grid(["name", "path", "range", "best"], fitted)))  # fmt: skip
    parts.append(section("history", "Optimisation", embed(_history_figure(study), "history")))
    importance = _importances(study)
    if importance:
        fig = go.Figure(go.Bar(x=list(importance), y=list(importance.values())))
        fig.update_layout(title="Parameter importances (fANOVA, share of loss variance)",
                          height=380)  # fmt: skip
        parts.append(section("importance", "Which parameters mattered", embed(fig, "importance")))
    title = f"scsim calibration {problem.name}"
    return write_page(out / "calibration.html", title, parts, embed, png)
