"""The report's flights-and-trains section: counts, shares and people from the records."""

from __future__ import annotations

import numpy as np

from scsim.report import travel
from scsim.report.html import Embedder


def series() -> dict[str, np.ndarray]:
    day = np.arange(4)
    return {
        "day": day,
        "bookings_flight": np.array([10, 20, 30, 40]),
        "refused_flight": np.array([0, 1, 2, 1]),
        "newly_refused_flight": np.array([0, 1, 1, 0]),
        "bookings_rail": np.array([5, 5, 5, 5]),
        "refused_rail": np.array([0, 0, 0, 0]),
        "newly_refused_rail": np.array([0, 0, 0, 0]),
        "refused_hotel": np.array([1, 1, 1, 1]),  # no bookings_hotel: not a mode
    }


def test_each_mode_gets_its_tries_refusals_share_and_citizens():
    html = travel.bookings(series(), n=2000, factor=10_000, embed=Embedder())
    assert travel.modes(series()) == ["flight", "rail"]
    assert "Flights and trains" in html
    assert "100" in html and "4 (4.00 %)" in html  # 4 of 100 flight tries refused
    assert "2 (1.00 per 1 000); 20,000 people" in html  # two citizens of 2 000, each 10 000
    assert "0 (0.00 %)" in html  # rail: tried, never refused
    assert "hotel" not in html


def test_a_run_without_bookings_has_no_travel_section():
    plain = {"day": np.arange(3), "refused_hotel": np.zeros(3)}
    assert travel.bookings(plain, n=10, factor=1, embed=Embedder()) == ""
    assert travel.columns(plain) == set()
