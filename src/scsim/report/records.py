"""What each timeseries column is, read from the records' metadata in the run's manifest
(``scsim.protocol.Record``: label, unit, kind, section, flags). A run written before records
carried metadata shows its columns by name."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

ENGINE = {
    "mean_score": {"label": "mean score", "unit": "points", "kind": "measure"},
    "score_p05": {"label": "5th percentile score", "unit": "points", "kind": "measure"},
    "score_p25": {"label": "25th percentile score", "unit": "points", "kind": "measure"},
    "score_p50": {"label": "median score", "unit": "points", "kind": "measure"},
    "score_p75": {"label": "75th percentile score", "unit": "points", "kind": "measure"},
    "score_p95": {"label": "95th percentile score", "unit": "points", "kind": "measure"},
}
"""The columns the engine writes itself."""


@dataclass(frozen=True)
class Records:
    """Metadata of a run's record columns, by column name."""

    meta: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def of(cls, manifest: dict[str, Any]) -> Records:
        return cls(ENGINE | (manifest.get("records") or {}))

    def label(self, column: str) -> str:
        """What the column counts, in words."""
        return self.meta.get(column, {}).get("label") or column.replace("_", " ")

    def unit(self, column: str) -> str:
        """What one count is ("citizens", "acts" ...)."""
        return self.meta.get(column, {}).get("unit") or "citizens"

    def units(self, columns: list[str]) -> str:
        """The y-axis title of a figure of ``columns``: their unit, or "count" when mixed."""
        found = {self.unit(c) for c in columns}
        return found.pop() if len(found) == 1 else "count"

    def where(self, series: dict[str, np.ndarray], **match: Any) -> list[str]:
        """The series' columns whose metadata has every ``key=value`` of ``match``."""
        return [
            c
            for c in series
            if c in self.meta and all(self.meta[c].get(k, False) == v for k, v in match.items())
        ]

    def false(self, series: dict[str, np.ndarray]) -> list[str]:
        """Columns counting false records or wrongful listings."""
        return self.where(series, false=True)
