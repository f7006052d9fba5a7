"""The report's opening paragraph: what happened, in words, from the records; and in a browser,
on the report's first screen."""

from __future__ import annotations

import numpy as np

from scsim.report.summary import sentences, share, summary_section
from tests.browser import chromium_page
from tests.conftest import make_run


def series() -> dict[str, np.ndarray]:
    return {
        "day": np.arange(4),
        "mean_score": np.array([650.0, 640.0, 630.0, 620.0]),
        "listed": np.array([0, 10, 30, 20]),
        "banned": np.array([0, 12, 40, 25]),
        "wrongly_listed": np.array([0, 1, 2, 5]),
        "newly_wrongly_listed": np.array([0, 1, 1, 4]),
        "speech_attempted": np.array([100, 100, 100, 100]),
        "speech_detected": np.array([10, 10, 10, 10]),
        "speech_silenced": np.array([0, 50, 50, 0]),
        "ties_cut": np.array([0, 3, 3, 0]),
    }


def test_shares_keep_the_digits_they_need():
    assert [share(37, 100), share(42, 1000), share(37, 10_000), share(0, 5)] == [
        "37 %", "4.2 %", "0.37 %", "0 %",
    ]  # fmt: skip
    assert share(1, 0) == "–"


def test_each_outcome_is_said_as_a_count_a_share_a_rate_and_in_people():
    text = " ".join(sentences(series(), n=2000, factor=10_000))
    # the last day's listed (20 of 2 000 = 1 %, 10 per 1 000; 200 000 people)
    assert "20 citizens (1.0 %, 10 per 1 000; about 200,000 people) were on a blacklist" in text
    # banned at the end (25) and at the peak (40 on day 2)
    assert "25 citizens (1.2 %, 12.5 per 1 000; about 250,000 people) were banned" in text
    assert "at the peak, on day 2, 40" in text
    assert (
        "5 of those listed at the end were listed wrongly" in text and "(25 % of the list)" in text
    )
    assert "6 citizens (0.3 %, 3 per 1 000; about 60,000 people) were wrongly listed" in text
    # 400 posts written, 40 detected (10 %); 100 held back of 500 wanted (20 %)
    assert "Of 400 political posts, 10 % were seen" in text and "(20 % of what people" in text
    assert "6 friendships (about 60,000) were cut" in text
    assert "from 650 to 620" in text


def test_a_run_without_a_record_has_no_sentence_for_it():
    only = {k: v for k, v in series().items() if k in ("day", "mean_score")}
    said = sentences(only, n=100)
    assert said == ["100 synthetic citizens over 4 days.", "The mean score went from 650 to 620."]
    assert "people" not in " ".join(said)  # each citizen is one person: no second count


def test_the_report_opens_with_the_summary_in_a_browser(tmp_path):
    """A reader sees, on the first screen of a 1280 x 800 window, what share was banned and how
    many were wrongly listed."""
    run = make_run(tmp_path / "run", n=2000, days=60, **{"modules.lists.blacklist_below": 640})
    shot = tmp_path / "first-screen.png"
    with chromium_page(1280, 800) as (page, errors):
        page.goto((run / "report.html").as_uri())
        summary = page.locator("#summary")
        box = summary.bounding_box()
        text = summary.inner_text()
        page.screenshot(path=str(shot))
    print(f"screenshot: {shot}")
    assert box is not None and box["y"] + box["height"] <= 800, box
    assert "were banned from something" in text and "%" in text
    assert "listed wrongly" in text
    assert shot.stat().st_size > 10_000


def test_the_section_escapes_and_wraps_the_sentences():
    html = summary_section(series(), n=2000)
    assert html.startswith('<section id="summary"><h2>What happened</h2><p class="summary">')


def test_a_rate_of_a_hundred_or_more_per_thousand_is_a_whole_number():
    from scsim.report.summary import Counter

    assert Counter(2000, 1.0).citizens(2000) == "2,000 citizens (100 %, 1,000 per 1 000)"
    assert Counter(2000, 1.0).citizens(3) == "3 citizens (0.15 %, 1.5 per 1 000)"
