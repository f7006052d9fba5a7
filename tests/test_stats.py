"""Student t quantiles and the paired and Welch intervals used by ``scsim compare``."""

import math

import numpy as np
import pytest

from scsim.stats import paired_interval, t_cdf, t_quantile, welch_interval

# Two-sided 95 % critical values from a standard t table (6 decimals); the integration is good
# to ~1e-9, so 1e-6 leaves room only for the table's rounding.
TABLE = [(1, 12.706205), (2, 4.302653), (4, 2.776445), (9, 2.262157), (30, 2.042272),
         (1000, 1.962339)]  # fmt: skip


@pytest.mark.parametrize("df,expected", TABLE)
def test_t_quantile_matches_the_table(df, expected):
    assert t_quantile(0.975, df) == pytest.approx(expected, abs=1e-6)


def test_t_cdf_is_symmetric_and_inverts_the_quantile():
    assert t_cdf(0.0, 3.5) == 0.5
    assert t_cdf(-1.3, 3.5) == pytest.approx(1 - t_cdf(1.3, 3.5), abs=1e-12)
    assert t_cdf(t_quantile(0.9, 7.25), 7.25) == pytest.approx(0.9, abs=1e-9)


def test_paired_interval_by_hand():
    a = np.array([10.0, 20.0, 30.0, 40.0])
    b = a + np.array([1.0, 2.0, 3.0, 2.0])  # differences: mean 2, sd sqrt(2/3)
    ci = paired_interval(a, b)
    half = 3.182446 * math.sqrt(2 / 3) / 2  # t(0.975, 3) x sd / sqrt(4)
    assert ci.estimate == 2.0
    assert ci.low == pytest.approx(2 - half, abs=1e-5)
    assert ci.high == pytest.approx(2 + half, abs=1e-5)


def test_identical_samples_give_a_zero_width_paired_interval_but_not_welch():
    a = np.array([1.0, 5.0, 9.0])
    assert paired_interval(a, a).width == 0.0
    assert welch_interval(a, a).width > 0.0


def test_welch_by_hand():
    a, b = np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0, 6.0, 8.0])
    va, vb = 1.0 / 3, (20 / 3) / 4  # sample variances over sizes
    df = (va + vb) ** 2 / (va**2 / 2 + vb**2 / 3)
    ci = welch_interval(a, b)
    assert ci.estimate == 3.0
    assert ci.width / 2 == pytest.approx(t_quantile(0.975, df) * math.sqrt(va + vb), rel=1e-12)


def test_one_replicate_is_refused():
    with pytest.raises(ValueError, match="at least 2"):
        paired_interval(np.array([1.0]), np.array([2.0]))
