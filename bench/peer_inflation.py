r"""Reputation inflation in the calibrated peer-rating preset: the mean rating and the share of
citizens rated 4.25 stars or more, day by day for ten years, with and without the raters' shading
(generosity and norm_pressure 0), beside the published points it was fitted to.

    .venv/bin/python bench/peer_inflation.py --n 20000 \
        --png docs/calibration/peer-rating-inflation.png
"""

from __future__ import annotations

import argparse

import numpy as np
from plotly.subplots import make_subplots

from scsim.engine import Sim
from scsim.scenario import load_scenario

PUBLISHED = {"mean": [(364, 3.7), (3649, 4.8)], "top": [(2554, 0.95)]}


def series(n: int, shading: bool) -> tuple[np.ndarray, np.ndarray]:
    overrides = {"population.n": n}
    if not shading:
        overrides |= {
            "modules.peer_rating.generosity": 0.0,
            "modules.peer_rating.norm_pressure": 0.0,
        }
    sim = Sim(load_scenario("peer-rating", overrides))
    sim.build()
    sim.run()
    return sim.record("peer_rating_sum") / n, sim.record("peer_top_rated") / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--png", default=None)
    args = parser.parse_args()
    fig = make_subplots(
        rows=1, cols=2, subplot_titles=("Mean rating (stars)", "Rated 4.25 or more")
    )
    runs = (
        (True, "raters shade up (calibrated)", None, "#1f77b4"),
        (False, "no shading", "dot", "#7f7f7f"),
    )
    for shading, name, dash, color in runs:
        mean, top = series(args.n, shading)
        years = np.arange(mean.size) / 365
        line = {"dash": dash, "color": color}
        fig.add_scatter(x=years, y=mean, name=name, line=line, row=1, col=1, legendgroup=name)
        fig.add_scatter(x=years, y=top, name=name, line=line, row=1, col=2, showlegend=False)
        print(f"{name}: mean rating year 1 {mean[364]:.2f}, year 10 {mean[-1]:.2f}; "
              f"rated 4.25+ year 7 {top[2554]:.1%}")  # fmt: skip
    for key, col in (("mean", 1), ("top", 2)):
        days, values = zip(*PUBLISHED[key], strict=True)
        fig.add_scatter(x=np.array(days) / 365, y=values, mode="markers", marker_size=10,
                        name="published", showlegend=col == 1, row=1, col=col,
                        marker_color="black")  # fmt: skip
    fig.update_xaxes(title_text="years since the platform's launch")
    fig.update_layout(width=1000, height=420, legend={"orientation": "h", "y": -0.25})
    if args.png:
        fig.write_image(args.png)
        print(f"figure: {args.png}")


if __name__ == "__main__":
    main()
