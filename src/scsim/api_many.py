"""What ``scsim.compare`` and ``scsim.sweep`` return: their results as Polars frames, with the
comparison report's figures and ``save``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb
    import plotly.graph_objects as go
    import polars as pl

    from scsim.experiments.executor import Failure
    from scsim.paired import Comparison

COMPARISON_FIGURES = ("intervals", "trajectories")
"""The comparison report's figures: paired and unpaired intervals of B - A, per-day means."""


class Compared:
    """A paired comparison: per-replicate ``rows``, per-outcome ``outcomes`` with intervals,
    mean ``trajectories``, the ``verdict``, ``plot()`` and ``save(path)``."""

    def __init__(self, comparison: Comparison) -> None:
        self.comparison = comparison
        self._summary: dict[str, Any] | None = None

    @property
    def summary(self) -> dict[str, Any]:
        """The comparison summary (what ``comparison.json`` holds)."""
        from scsim.paired import summarise

        if self._summary is None:
            self._summary = summarise(self.comparison)
        return self._summary

    @property
    def rows(self) -> pl.DataFrame:
        """One row per replicate and outcome (and region): seed, A's and B's values, B - A."""
        import polars as pl

        from scsim.paired import rows_table

        return pl.from_arrow(rows_table(self.comparison))

    @property
    def outcomes(self) -> pl.DataFrame:
        """One row per outcome (and region): means, B - A, paired and unpaired intervals."""
        import polars as pl

        rows = [
            {
                "outcome": e["outcome"], "label": e["label"], "region": e["region"],
                "region_name": e["region_name"], "mean_a": e["mean_a"], "mean_b": e["mean_b"],
                "diff": e["diff"], "paired_low": e["paired"]["low"],
                "paired_high": e["paired"]["high"], "unpaired_low": e["unpaired"]["low"],
                "unpaired_high": e["unpaired"]["high"], "width_ratio": e["width_ratio"],
            }
            for e in self.summary["outcomes"]
        ]  # fmt: skip
        return pl.DataFrame(rows, infer_schema_length=None)

    @property
    def trajectories(self) -> pl.DataFrame:
        """Per day, the mean over replicates of A's and B's banned and mean score."""
        import polars as pl

        columns: dict[str, list[float]] = {}
        for name, sides in self.summary["trajectories"].items():
            for side, values in sides.items():
                columns[f"{name}_{side}"] = values
        days = len(next(iter(columns.values()), []))
        return pl.DataFrame({"day": list(range(days)), **columns})

    @property
    def verdict(self) -> str:
        """What B changed and how sure we are, in one sentence (as ``scsim compare`` says)."""
        from scsim.report.comparison import verdict

        return verdict(self.summary)

    def plot(self, name: str = "intervals") -> go.Figure:
        """A figure of the comparison report: ``intervals`` or ``trajectories``."""
        from scsim.report.comparison import _forest, _trajectories

        s = self.summary
        if name == "intervals":
            return _forest([e for e in s["outcomes"] if e["region"] is None], s["level"])
        if name == "trajectories":
            return _trajectories(s["trajectories"], (s["a"]["name"], s["b"]["name"]))
        raise ValueError(
            f"plot: {name!r} is not a figure of a comparison; expected one of "
            f"{', '.join(COMPARISON_FIGURES)}"
        )

    def save(self, path: str | Path) -> Path:
        """Write comparison.parquet, .json and .html into ``path`` (a new directory)."""
        from scsim.paired import write_comparison

        out = Path(path)
        if out.exists():
            raise ValueError(
                f"path: {str(out)!r} already exists; choose a new directory or remove it"
            )
        self._summary = write_comparison(self.comparison, out)
        return out

    def __repr__(self) -> str:
        c = self.comparison
        return (
            f"<scsim.Compared {c.names[0]} vs {c.names[1]}: {c.replicates} paired replicates of "
            f"{c.a.population.n:,} citizens x {c.a.days:,} days>"
        )


@dataclass
class Swept:
    """A finished (or partly failed) sweep: its directory, report and ``results`` frame."""

    path: Path
    report: Path
    failures: list[Failure] = field(default_factory=list)

    @property
    def results(self) -> pl.DataFrame:
        """One row per (point, replicate): seed, the parameters, the outcomes, seconds."""
        import polars as pl

        from scsim.experiments.sweep import RESULTS

        return pl.read_parquet(self.path / RESULTS)

    def connect(self) -> duckdb.DuckDBPyConnection:
        """A DuckDB connection with the views ``results``, ``parameters`` and ``outcomes``."""
        from scsim.experiments.sweep import connect_sweep

        return connect_sweep(self.path)

    def __repr__(self) -> str:
        failed = f", {len(self.failures)} runs failed" if self.failures else ""
        return f"<scsim.Swept {str(self.path)!r}{failed}>"
