"""The what-if page: its API (TestClient, small runs through lowered limits) and the page in
headless Chromium."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

import scsim
from scsim.explorer.app import create_app
from scsim.explorer.whatif import BUSY, Limits
from tests.browser import chromium_page
from tests.explorer.conftest import serve

SMALL = Limits(n_min=1000, days_min=30)
N, DAYS = 2000, 60
BELOW = "modules.lists.blacklist_below"


@pytest.fixture
def app(core_run: Path):
    return create_app([core_run], whatif_limits=SMALL)


@pytest.fixture
def client(app) -> TestClient:
    return TestClient(app, base_url="http://127.0.0.1")


def ask(client: TestClient, **body):
    return client.post("/api/whatif", json={"preset": "beijing-2020", "n": N, "days": DAYS,
                                            "seed": 1, **body})  # fmt: skip


def test_levers_of_beijing(client):
    answer = client.get("/api/whatif/levers", params={"preset": "beijing-2020"}).json()
    levers = {lv["path"]: lv for lv in answer["levers"]}
    assert levers[BELOW]["value"] == 500 and levers[BELOW]["kind"] == "number"
    assert levers[BELOW]["label"] == "blacklist below this score"
    assert levers["modules.scoring.friend_sanction_penalty"]["value"] == -0.3
    assert levers["modules.lists.appeals"] == {
        "path": "modules.lists.appeals",
        "label": "listed citizens can appeal",
        "kind": "bool",
        "value": False,
    }
    for path in ("modules.lists.disclose", "modules.lists.listing_days",
                 "modules.scoring.half_life", "modules.surveillance.coverage"):  # fmt: skip
        assert path in levers
    # a preset without lists offers no list levers
    sesame = client.get("/api/whatif/levers", params={"preset": "sesame"}).json()["levers"]
    assert BELOW not in {lv["path"] for lv in sesame}


def test_a_raised_threshold_lists_more_and_the_preset_side_is_the_preset(client):
    response = ask(client, levers={BELOW: 645})
    assert response.status_code == 200, response.text
    answer = response.json()
    a, b = answer["unchanged"], answer["changed"]
    assert b["final"]["listed"] > a["final"]["listed"]
    assert answer["difference"]["final"]["listed"] == b["final"]["listed"] - a["final"]["listed"]
    assert len(a["series"]["listed"]) == len(b["series"]["day"]) == DAYS
    assert a["sentences"][0] == f"{N:,} synthetic citizens over {DAYS} days."
    assert any("were on a blacklist" in s for s in b["sentences"])
    direct = scsim.run("beijing-2020", n=N, days=DAYS, seed=1)
    for name in ("listed", "banned", "wrongly_listed"):
        assert a["final"][name] == direct.final(name)
    assert a["share"]["listed"] == direct.final("listed") / N


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"preset": "atlantis"}, "preset: 'atlantis'"),
        ({"levers": {"modules.lists.court": False}}, "'modules.lists.court' is not a lever"),
        ({"levers": {BELOW: 10_000}}, f"levers.{BELOW}: '10000' is not allowed"),
        ({"levers": {"modules.lists.appeals": 1}}, "expected true or false"),
        ({"n": 10}, "n: 10 is not allowed; expected an integer from 1,000 to 100,000"),
        ({"days": 9999}, "days: 9999 is not allowed"),
    ],
)
def test_mistakes_are_422_naming_the_field(client, body, named):
    response = ask(client, **body)
    assert response.status_code == 422
    assert named in response.json()["error"]


def test_default_limits(core_run):
    client = TestClient(create_app([core_run]), base_url="http://127.0.0.1")
    limits = client.get("/api/whatif/presets").json()["limits"]
    assert (limits["n_min"], limits["n_max"], limits["n_default"]) == (1000, 100_000, 50_000)
    assert (limits["days_min"], limits["days_max"], limits["days_default"]) == (30, 730, 365)
    for body, named in (({"n": 999}, "n: 999"), ({"n": 100_001}, "n: 100001"),
                        ({"days": 29}, "days: 29"), ({"days": 731}, "days: 731")):  # fmt: skip
        response = ask(client, **body)
        assert response.status_code == 422 and named in response.json()["error"]
    # lowered for tests only
    app = create_app([core_run], whatif_limits=Limits(n_min=900, days_min=10))
    small = TestClient(app, base_url="http://127.0.0.1")
    assert ask(small, n=900, days=10).status_code == 200


def test_a_second_run_while_one_runs_is_refused(app, client):
    lock = app.state.whatif_lock
    assert lock.acquire(blocking=False)
    try:
        response = ask(client)
    finally:
        lock.release()
    assert response.status_code == 409
    assert response.json() == {"error": BUSY}
    assert ask(client, days=30).status_code == 200


def test_only_json_posts_to_the_whatif_route(client):
    assert client.post("/api/runs", json={}).status_code == 405
    response = client.post("/api/whatif", content="preset=beijing-2020",
                           headers={"Content-Type": "text/plain"})  # fmt: skip
    assert response.status_code == 415


@pytest.fixture
def served(core_run: Path) -> Iterator[str]:
    with serve(create_app([core_run], whatif_limits=SMALL)) as url:
        yield url


def test_page_runs_a_what_if(served, tmp_path):
    with chromium_page(1280, 1400) as (page, errors):
        page.goto(served + "/")
        page.click("#whatif-link")
        page.wait_for_selector("#levers tbody tr")
        # beijing-2020 is the page's first preset: choosing it again asks for its levers again,
        # and the table is redrawn (moved levers reset) when they arrive. The page marks the
        # table with its preset only once drawn, so wait for that, not for any input with the
        # same path (the stale table has one too)
        page.select_option("#preset", "beijing-2020")
        page.wait_for_selector(f'#levers[data-preset="beijing-2020"] input[data-path="{BELOW}"]')
        page.fill("#n", str(N))
        page.fill("#days", str(DAYS))
        threshold = page.locator(f'input[data-path="{BELOW}"]')
        threshold.fill("645")  # a range input takes fill() and fires input
        assert page.locator("#lever-0-value").inner_text() == "645"
        page.click("#run-button")
        page.wait_for_selector("#changed-sentences li", timeout=60_000)
        page.wait_for_selector("#listed-chart .main-svg")
        assert page.locator("#unchanged-sentences li").count() >= 2
        changed = page.locator("#changed-sentences").inner_text()
        assert "were on a blacklist" in changed and " %" in changed
        assert page.locator("#listed-chart .scatterlayer .trace").count() == 2
        assert not page.locator("#run-button").is_disabled()
        assert page.locator("#error").inner_text() == ""
        # a mistake is shown in the page
        page.fill("#n", "5")
        page.click("#run-button")
        page.wait_for_selector("#error:not(:empty)")
        assert "n: 5 is not allowed" in page.locator("#error").inner_text()
        page.screenshot(path=str(tmp_path / "whatif.png"), full_page=True)
    errors = [e for e in errors if "422" not in e]  # the refused run's console line
    assert errors == []


def test_two_real_requests_at_once_one_is_refused_and_the_page_still_answers(core_run):
    """Over a real server: while one what-if run is under way, a second is refused with 409 and
    the explorer's other pages still answer; the first then finishes normally."""
    app = create_app([core_run], whatif_limits=SMALL)
    body = {"preset": "beijing-2020", "n": 20_000, "days": 365, "seed": 1, "levers": {}}
    with serve(app) as url:
        first: dict = {}
        thread = threading.Thread(
            target=lambda: first.update(r=httpx.post(f"{url}/api/whatif", json=body, timeout=120))
        )
        thread.start()
        deadline = time.monotonic() + 60
        while not app.state.whatif_lock.locked():  # the first run has started
            assert thread.is_alive() and time.monotonic() < deadline, "the first run never started"
            time.sleep(0.01)
        second = httpx.post(f"{url}/api/whatif", json=body, timeout=30)
        runs = httpx.get(f"{url}/api/runs", timeout=30)
        busy = app.state.whatif_lock.locked()
        thread.join(timeout=120)
    assert busy, "the first run ended before the second request: make it longer"
    assert second.status_code == 409 and second.json() == {"error": BUSY}
    assert runs.status_code == 200
    assert first["r"].status_code == 200
