"""Small-sample statistics for replicate comparisons: Student t quantiles, paired and Welch
intervals (no SciPy: the t quantile comes from integrating the density, good to ~1e-9)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

_GRID = 8192
"""Simpson intervals on [0, x]; the density is smooth, so the CDF error is far below 1e-9."""


def t_cdf(x: float, df: float) -> float:
    """P(T <= x) for Student's t with ``df`` > 0 degrees of freedom."""
    if x == 0:
        return 0.5
    log_norm = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
    t = np.linspace(0.0, abs(x), _GRID + 1)
    pdf = np.exp(log_norm - (df + 1) / 2 * np.log1p(t * t / df))
    h = abs(x) / _GRID
    half = h / 3 * (pdf[0] + pdf[-1] + 4 * pdf[1:-1:2].sum() + 2 * pdf[2:-1:2].sum())
    return 0.5 + half if x > 0 else 0.5 - half


def t_quantile(p: float, df: float) -> float:
    """The ``p`` quantile of Student's t with ``df`` degrees of freedom (0.5 < p < 1)."""
    if not 0.5 < p < 1:
        raise ValueError(f"p: {p} is not allowed; expected 0.5 < p < 1")
    lo, hi = 0.0, 1.0
    while t_cdf(hi, df) < p:
        lo, hi = hi, hi * 2
    for _ in range(80):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if t_cdf(mid, df) < p else (lo, mid)
    return (lo + hi) / 2


@dataclass(frozen=True)
class Interval:
    """An estimate with a two-sided confidence interval."""

    estimate: float
    low: float
    high: float

    @property
    def width(self) -> float:
        return self.high - self.low


def paired_interval(a: np.ndarray, b: np.ndarray, level: float = 0.95) -> Interval:
    """t interval of the mean of ``b - a`` over replicates (pairs share their random draws)."""
    d = np.asarray(b, dtype=np.float64) - np.asarray(a, dtype=np.float64)
    r = d.size
    if r < 2:
        raise ValueError(f"replicates: {r} is not allowed; expected at least 2")
    mean = float(d.mean())
    se = float(d.std(ddof=1)) / math.sqrt(r)
    half = t_quantile(0.5 + level / 2, r - 1) * se if se > 0 else 0.0
    return Interval(mean, mean - half, mean + half)


def welch_interval(a: np.ndarray, b: np.ndarray, level: float = 0.95) -> Interval:
    """Welch t interval of ``mean(b) - mean(a)``, treating the samples as independent."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if min(a.size, b.size) < 2:
        raise ValueError("replicates: expected at least 2 per scenario")
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    mean = float(b.mean() - a.mean())
    se2 = va + vb
    if se2 <= 0:
        return Interval(mean, mean, mean)
    df = se2 * se2 / (va * va / (a.size - 1) + vb * vb / (b.size - 1))
    half = t_quantile(0.5 + level / 2, df) * math.sqrt(se2)
    return Interval(mean, mean - half, mean + half)
